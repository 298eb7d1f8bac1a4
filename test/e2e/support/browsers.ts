/**
 * The e2e browsers behind one small interface, so a scenario is written once and run in both:
 *
 * - Chromium: Debian's `chromium` driven by playwright-core (CDP), fake camera and microphone;
 * - Firefox: Debian's `firefox-esr` driven by puppeteer-core over WebDriver BiDi, with Firefox's fake
 *   media streams and autoplay allowed.
 *
 * Pages are found and read through the same in-page helpers in both (`inPage.ts`): elements by
 * `data-testid` through the shadow roots, texts compared with whitespace collapsed. Each
 * {@link E2ePage} is its own browser profile (context: own storage, so own login). A browser's
 * process ends with {@link E2eBrowser.close}; both libraries also kill it if the test process exits.
 *
 * Environment: `CHROMIUM_PATH` (default `/usr/bin/chromium`), `FIREFOX_PATH` (default
 * `/usr/bin/firefox-esr`).
 */
import { existsSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import {
  chromium,
  type Browser as PwBrowser,
  type BrowserContext as PwContext,
  type Page as PwPage,
} from 'playwright-core';
import puppeteer, {
  type Browser as PpBrowser,
  type BrowserContext as PpContext,
  type Page as PpPage,
} from 'puppeteer-core';
import { IN_PAGE_SCRIPT, inPage, specOf, type Target, type TargetSpec } from './inPage.js';

export type { Target, TargetSpec } from './inPage.js';

export type BrowserName = 'chromium' | 'firefox';

/** How long waits for elements and texts last unless told otherwise (Firefox on 2 cores is slow to start). */
export const DEFAULT_TIMEOUT_MS = 15_000;

const VIEWPORT = { width: 1280, height: 800 };

/** One launched browser; pages opened from it are closed with it. */
export interface E2eBrowser {
  readonly name: BrowserName;
  /** A new profile with one page (its own storage, so its own login). */
  newPage(): Promise<E2ePage>;
  /** Closes every page and ends the browser process (killed if it does not exit in time). Idempotent. */
  close(): Promise<void>;
}

/** Options of {@link E2ePage.waitFor}. */
export interface WaitOptions {
  /** `visible` (default): rendered with a box; `attached`: in the DOM; `detached`: not in the DOM. */
  state?: 'visible' | 'attached' | 'detached';
  /** Milliseconds; default {@link DEFAULT_TIMEOUT_MS}. */
  timeout?: number;
}

/** What a scenario does with a page, the same in every browser. Targets are `data-testid`s (see {@link Target}). */
export interface E2ePage {
  readonly browserName: BrowserName;
  /** Navigates and waits for the load. */
  goto(url: string): Promise<void>;
  /** The page's current URL. */
  url(): string;
  /** Waits until the target is visible and enabled, then clicks it like a person (real input events). */
  click(target: Target, timeout?: number): Promise<void>;
  /** Waits until the input is visible and enabled, then types `value` into it (replacing its text). */
  fill(target: Target, value: string): Promise<void>;
  /** Waits for the target to reach `state`. */
  waitFor(target: Target, options?: WaitOptions): Promise<void>;
  /** Waits until the element with `testId` reads exactly `text` (whitespace collapsed). */
  waitForText(testId: string, text: string, timeout?: number): Promise<void>;
  /** How many elements match now. */
  count(target: Target): Promise<number>;
  /** The first match's text, whitespace collapsed. @throws Error when there is none. */
  text(target: Target): Promise<string>;
  /** The first match's `value` and `disabled` (an input). @throws Error when there is none. */
  field(target: Target): Promise<{ value: string; disabled: boolean }>;
  /** Evaluates a JavaScript expression in the page (awaiting a promise) and returns its JSON value. */
  evaluate<R>(expression: string): Promise<R>;
  /** Waits until a JavaScript expression is truthy in the page. `what` names it in the timeout error. */
  waitForFunction(expression: string, what: string, timeout?: number): Promise<void>;
  /** Saves a PNG of the viewport. */
  screenshot(file: string): Promise<void>;
  /** Closes the page's profile. Idempotent. */
  close(): Promise<void>;
}

/** Where each browser is, and the Debian package that installs it there. */
const EXECUTABLES: Record<BrowserName, { path: string; apt: string }> = {
  chromium: { path: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', apt: 'chromium' },
  firefox: { path: process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr', apt: 'firefox-esr' },
};

/**
 * Launches one browser.
 * @throws Error naming the package to install when the executable is missing.
 */
export async function launchBrowser(name: BrowserName): Promise<E2eBrowser> {
  const { path, apt } = EXECUTABLES[name];
  if (!existsSync(path)) throw new Error(`${path} is missing: install it with \`apt-get install ${apt}\`.`);
  return name === 'chromium' ? ChromiumBrowser.launch(path) : FirefoxBrowser.launch(path);
}

/** Browsers launched on first use and closed together: one process per kind for a whole test file. */
export interface BrowserPool {
  get(name: BrowserName): Promise<E2eBrowser>;
  /** Closes every browser launched so far (each even if another fails to close). */
  close(): Promise<void>;
}

/** A {@link BrowserPool}. */
export function browserPool(): BrowserPool {
  const launched = new Map<BrowserName, Promise<E2eBrowser>>();
  return {
    get(name) {
      let browser = launched.get(name);
      if (!browser) {
        browser = launchBrowser(name);
        launched.set(name, browser);
      }
      return browser;
    },
    async close() {
      const results = await Promise.allSettled(
        [...launched.values()].map(async (browser) => (await browser).close()),
      );
      launched.clear();
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    },
  };
}

/** Closes pages whatever happens to each (for `finally` blocks). */
export async function closeAll(pages: E2ePage[]): Promise<void> {
  await Promise.allSettled(pages.map((page) => page.close()));
}

/** What the two drivers differ in; everything else is {@link Page}. */
interface Driver {
  goto(url: string): Promise<void>;
  url(): string;
  evaluate(expression: string): Promise<unknown>;
  /** Resolves when `expression` is truthy; rejects after `timeout` ms. */
  waitForFunction(expression: string, timeout: number): Promise<void>;
  /** Clicks (or types into) the element `expression` evaluates to. False when it evaluates to null. */
  click(expression: string): Promise<boolean>;
  fill(expression: string, value: string): Promise<boolean>;
  screenshot(file: string): Promise<void>;
  close(): Promise<void>;
}

function describeTarget(spec: TargetSpec): string {
  let text = `[data-testid=${spec.testId}]`;
  if (spec.has) text += ` containing [data-testid=${spec.has}]`;
  if (spec.text !== undefined)
    text += ` with text ${spec.exact ? '' : 'containing '}${JSON.stringify(spec.text)}`;
  return text;
}

/** One page in either browser, over its {@link Driver}. */
class Page implements E2ePage {
  readonly browserName: BrowserName;
  readonly #driver: Driver;
  readonly #onClose: () => void;
  #closed = false;

  constructor(browserName: BrowserName, driver: Driver, onClose: () => void) {
    this.browserName = browserName;
    this.#driver = driver;
    this.#onClose = onClose;
  }

  goto(url: string): Promise<void> {
    return this.#driver.goto(url);
  }

  url(): string {
    return this.#driver.url();
  }

  async click(target: Target, timeout = DEFAULT_TIMEOUT_MS): Promise<void> {
    await this.#act(target, timeout, (expression) => this.#driver.click(expression));
  }

  async fill(target: Target, value: string): Promise<void> {
    await this.#act(target, DEFAULT_TIMEOUT_MS, (expression) => this.#driver.fill(expression, value));
  }

  async waitFor(
    target: Target,
    { state = 'visible', timeout = DEFAULT_TIMEOUT_MS }: WaitOptions = {},
  ): Promise<void> {
    const spec = specOf(target);
    const expression =
      state === 'detached'
        ? `${inPage('count', spec, false)} === 0`
        : `${inPage('count', spec, state === 'visible')} > 0`;
    await this.waitForFunction(expression, `${describeTarget(spec)} to be ${state}`, timeout);
  }

  waitForText(testId: string, text: string, timeout?: number): Promise<void> {
    return this.waitFor({ testId, text, exact: true }, { timeout });
  }

  count(target: Target): Promise<number> {
    return this.evaluate<number>(inPage('count', specOf(target), false));
  }

  async text(target: Target): Promise<string> {
    const text = await this.evaluate<string | null>(inPage('text', specOf(target)));
    if (text === null)
      throw new Error(`${this.browserName}: no ${describeTarget(specOf(target))} on ${this.url()}`);
    return text;
  }

  async field(target: Target): Promise<{ value: string; disabled: boolean }> {
    const field = await this.evaluate<{ value: string; disabled: boolean } | null>(
      inPage('field', specOf(target)),
    );
    if (!field) throw new Error(`${this.browserName}: no ${describeTarget(specOf(target))} on ${this.url()}`);
    return field;
  }

  async evaluate<R>(expression: string): Promise<R> {
    return (await this.#driver.evaluate(expression)) as R;
  }

  async waitForFunction(expression: string, what: string, timeout = DEFAULT_TIMEOUT_MS): Promise<void> {
    try {
      await this.#driver.waitForFunction(expression, timeout);
    } catch (err) {
      throw new Error(
        `${this.browserName}: timed out after ${timeout} ms waiting for ${what} on ${this.url()}`,
        {
          cause: err,
        },
      );
    }
  }

  screenshot(file: string): Promise<void> {
    return this.#driver.screenshot(file);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#onClose();
    await this.#driver.close();
  }

  /** Waits for an actionable match, then acts on it; again if it went away in between (a re-render). */
  async #act(
    target: Target,
    timeout: number,
    action: (expression: string) => Promise<boolean>,
  ): Promise<void> {
    const spec = specOf(target);
    const expression = inPage('findActionable', spec);
    const deadline = Date.now() + timeout;
    for (;;) {
      await this.waitForFunction(
        expression,
        `${describeTarget(spec)} to be visible and enabled`,
        deadline - Date.now(),
      );
      if (await action(expression)) return;
    }
  }
}

/** Logs what goes wrong in a page: uncaught errors and console errors (not the 4xx the page shows as messages). */
function logPageTrouble(browserName: BrowserName, kind: 'error' | 'console', text: string): void {
  if (kind === 'console' && /Failed to load resource|status of 4\d\d/.test(text)) return;
  console.error(`[${browserName} ${kind === 'error' ? 'page error' : 'console'}] ${text}`);
}

const CHROMIUM_ARGS = [
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

class ChromiumBrowser implements E2eBrowser {
  readonly name = 'chromium';
  readonly #browser: PwBrowser;
  readonly #contexts = new Set<PwContext>();
  #closed = false;

  private constructor(browser: PwBrowser) {
    this.#browser = browser;
  }

  static async launch(executablePath: string): Promise<ChromiumBrowser> {
    const browser = await chromium.launch({
      executablePath,
      args: CHROMIUM_ARGS,
    });
    return new ChromiumBrowser(browser);
  }

  async newPage(): Promise<E2ePage> {
    const context = await this.#browser.newContext({
      viewport: VIEWPORT,
      permissions: ['camera', 'microphone'],
    });
    this.#contexts.add(context);
    await context.addInitScript(IN_PAGE_SCRIPT);
    const page = await context.newPage();
    page.on('pageerror', (err) => logPageTrouble('chromium', 'error', err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') logPageTrouble('chromium', 'console', msg.text());
    });
    return new Page('chromium', chromiumDriver(page, context), () => this.#contexts.delete(context));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#contexts].map((context) => context.close()));
    await this.#browser.close();
  }
}

function chromiumDriver(page: PwPage, context: PwContext): Driver {
  return {
    goto: async (url) => {
      await page.goto(url);
    },
    url: () => page.url(),
    evaluate: (expression) => page.evaluate(expression),
    // page.waitForFunction() would evaluate the string inside the page, which the app's CSP
    // (no 'unsafe-eval') forbids; evaluate() goes through the DevTools protocol and is not blocked
    waitForFunction: async (expression, timeout) => {
      const deadline = Date.now() + timeout;
      while (!(await page.evaluate(expression))) {
        if (Date.now() > deadline) throw new Error(`not true within ${timeout} ms`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    click: async (expression) => {
      const element = (await page.evaluateHandle(expression)).asElement();
      if (!element) return false;
      await element.click();
      return true;
    },
    fill: async (expression, value) => {
      const element = (await page.evaluateHandle(expression)).asElement();
      if (!element) return false;
      await element.fill(value);
      return true;
    },
    screenshot: async (file) => {
      await page.screenshot({ path: file });
    },
    close: () => context.close(),
  };
}

/**
 * Firefox preferences for the tests. The fake devices and autoplay stand for the person who allows
 * the camera and clicks. The ICE ones let Firefox reach a media server on this machine: without
 * them it hides its host addresses behind mDNS names (which a media server cannot resolve) and
 * never pairs its candidates with a 127.0.0.1 one.
 */
const FIREFOX_PREFS = {
  'media.navigator.streams.fake': true,
  'media.navigator.permission.disabled': true,
  'media.autoplay.default': 0,
  'media.autoplay.blocking_policy': 0,
  'media.peerconnection.ice.obfuscate_host_addresses': false,
  'media.peerconnection.ice.loopback': true,
};

/** How long one WebDriver BiDi command may take (a waitForFunction is one command). */
const FIREFOX_PROTOCOL_TIMEOUT_MS = 45_000;

/** How long Firefox gets to exit before it is killed. */
const FIREFOX_CLOSE_TIMEOUT_MS = 10_000;

class FirefoxBrowser implements E2eBrowser {
  readonly name = 'firefox';
  readonly #browser: PpBrowser;
  readonly #contexts = new Set<PpContext>();
  #closed = false;

  private constructor(browser: PpBrowser) {
    this.#browser = browser;
  }

  static async launch(executablePath: string): Promise<FirefoxBrowser> {
    const browser = await puppeteer.launch({
      browser: 'firefox',
      executablePath,
      headless: true,
      defaultViewport: VIEWPORT,
      extraPrefsFirefox: FIREFOX_PREFS,
      // a page that spins (as the viewer did before 20691d7) must fail its test, not stall it for
      // puppeteer's default 180 s per call; longer than any wait (DEFAULT_TIMEOUT_MS, media 20 s)
      protocolTimeout: FIREFOX_PROTOCOL_TIMEOUT_MS,
    });
    return new FirefoxBrowser(browser);
  }

  async newPage(): Promise<E2ePage> {
    const context = await this.#browser.createBrowserContext();
    this.#contexts.add(context);
    // a window of its own: a page in a background tab gets no animation frames and its videos are
    // suspended, as for a person who switched tabs
    const page = await context.newPage({ type: 'window' });
    await page.evaluateOnNewDocument(IN_PAGE_SCRIPT);
    page.on('pageerror', (err) =>
      logPageTrouble('firefox', 'error', err instanceof Error ? err.message : String(err)),
    );
    page.on('console', (msg) => {
      if (msg.type() === 'error') logPageTrouble('firefox', 'console', msg.text());
    });
    return new Page('firefox', firefoxDriver(page, context), () => this.#contexts.delete(context));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const process = this.#browser.process();
    await Promise.allSettled([...this.#contexts].map((context) => context.close()));
    const closed = this.#browser.close().then(() => true);
    if (!(await Promise.race([closed, delay(FIREFOX_CLOSE_TIMEOUT_MS, false)]))) {
      process?.kill('SIGKILL');
      await closed.catch(() => undefined);
    }
  }
}

function firefoxDriver(page: PpPage, context: PpContext): Driver {
  return {
    goto: async (url) => {
      await page.goto(url);
    },
    url: () => page.url(),
    evaluate: (expression) => page.evaluate(expression),
    waitForFunction: async (expression, timeout) => {
      await page.waitForFunction(expression, { timeout });
    },
    click: async (expression) => {
      const element = (await page.evaluateHandle(expression)).asElement();
      if (!element) return false;
      await element.click();
      return true;
    },
    fill: async (expression, value) => {
      const element = (await page.evaluateHandle(expression)).asElement();
      if (!element) return false;
      // a triple click selects what the input holds, so typing replaces it
      await element.click({ count: 3 });
      await element.type(value);
      return true;
    },
    screenshot: async (file) => {
      await page.screenshot({ path: file });
    },
    close: () => context.close(),
  };
}

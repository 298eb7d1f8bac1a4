/**
 * The web client end to end, as people would click it, in Chromium and in Firefox (see
 * `support/browsers.ts`): Debian's `chromium` through playwright-core and Debian's `firefox-esr`
 * through puppeteer-core (WebDriver BiDi), both with fake cameras; the real app on 127.0.0.1; and
 * the fake KMS with real media (`FakeKms.start({ media: true })`: werift forwards the host's RTP to
 * each viewer) — or the real KMS at KMS_URI, unchanged. Videos are checked as a person sees them (frames
 * advancing, no reset while the page re-renders: `support/playback.ts`), in both browsers and
 * across them (a Firefox viewer of a Chromium host, a Chromium viewer of a Firefox host).
 *
 * Needs the web build: `npm run build:web` (npm test runs it first).
 * Set THEIA_E2E_SCREENSHOTS=<dir> to save screenshots of the main pages there, and
 * THEIA_E2E_SOAK=1 to also watch a live for a minute in both browsers.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { App } from '../../src/App.js';
import { FakeKms } from '../support/FakeKms.js';
import { startE2eApp, type E2eApp } from './support/app.js';
import { browserPool, closeAll, type BrowserName, type E2ePage } from './support/browsers.js';
import { inPage, type RtcVideoStats } from './support/inPage.js';
import { expectPlayback, figuresText, startVideoProbe } from './support/playback.js';

/** The web build to serve (another one to try the suite against it). */
const SCREENSHOTS = process.env.THEIA_E2E_SCREENSHOTS;
const SOAK = process.env.THEIA_E2E_SOAK === '1';
const PASSWORD = 'password123';

/** Host and viewer browsers of the main scenario: each browser on its own, and across. */
const PAIRS: Array<[host: BrowserName, viewer: BrowserName]> = [
  ['chromium', 'chromium'],
  ['chromium', 'firefox'],
  ['firefox', 'chromium'],
  ['firefox', 'firefox'],
];

const browsers = browserPool();
let app: App;
let kms: FakeKms | undefined;
let e2e: E2eApp;

before(async () => {
  // both browsers start meanwhile (Firefox takes seconds); after() closes them in any case
  await Promise.all([browsers.get('chromium'), browsers.get('firefox'), startApp()]);
});

async function startApp(): Promise<void> {
  e2e = await startE2eApp();
  app = e2e.app;
  kms = e2e.kms;
}

after(async () => {
  try {
    await browsers.close();
  } finally {
    await e2e?.close();
  }
});

/** Opens a fresh profile (own storage, so own login) with one page in a browser. */
type OpenPage = (browser: BrowserName) => Promise<E2ePage>;

/**
 * Runs a test's scenario with the pages it opens, and closes them all when it ends; if it failed,
 * first saves a screenshot of each (with THEIA_E2E_SCREENSHOTS).
 */
async function withPages(t: TestContext, scenario: (open: OpenPage) => Promise<void>): Promise<void> {
  const pages: E2ePage[] = [];
  try {
    await scenario(async (browser) => {
      const page = await (await browsers.get(browser)).newPage();
      pages.push(page);
      return page;
    });
  } catch (err) {
    if (SCREENSHOTS) {
      const name = t.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 80);
      await Promise.allSettled(
        pages.map((page, i) =>
          page.screenshot(path.join(SCREENSHOTS, `failed-${name}-${i}-${page.browserName}.png`)),
        ),
      );
    }
    throw err;
  } finally {
    await closeAll(pages);
  }
}

/** Signs up through the form and waits until the header shows the new name. */
async function signUp(page: E2ePage, name: string): Promise<void> {
  await page.goto(`${app.url}/#/signup`);
  await page.fill('auth-name', name);
  await page.fill('auth-password', PASSWORD);
  await page.click('auth-submit');
  await page.waitFor({ testId: 'nav-user', text: name });
}

async function screenshot(page: E2ePage, name: string): Promise<void> {
  if (SCREENSHOTS) await page.screenshot(path.join(SCREENSHOTS, `${name}-${page.browserName}.png`));
}

/** Sends a chat message from `from` and waits until `to` shows it. */
async function chat(from: E2ePage, to: E2ePage, text: string): Promise<void> {
  await from.fill('chat-input', text);
  await from.click('chat-send');
  await to.waitFor({ testId: 'chat-message', text });
}

/** Polls `check` until it holds (for state the browser cannot be waited on for, like KMS objects). */
async function eventually(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 5_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Media objects this app holds in KMS (the fake's object table, or the real KMS's pipelines of this app). */
function kmsObjects(): Promise<unknown[]> {
  return e2e.kmsObjects();
}

/** Signs up a host in `browser`, opens their room and waits for the camera preview. */
async function openHostRoom(open: OpenPage, browser: BrowserName, name: string): Promise<E2ePage> {
  const host = await open(browser);
  await signUp(host, name);
  await host.click('nav-my-room');
  await host.waitForText('room-title', `${name}'s room`);
  await host.waitForText('live-state', 'You are offline');
  return host;
}

for (const [hostBrowser, viewerBrowser] of PAIRS) {
  test(
    `a host in ${hostBrowser} goes live with the preview playing; a viewer in ${viewerBrowser} watches ` +
      'it play through chat and viewers coming and going; anonymous visitors read only; stopping frees KMS',
    async (t: TestContext) => {
      await withPages(t, async (open) => {
        const suffix = randomUUID().slice(0, 6);
        const hostName = `host_${suffix}`;
        const viewerName = `viewer_${suffix}`;

        // A opens their room: the preview plays, and keeps playing while A goes live
        const a = await openHostRoom(open, hostBrowser, hostName);
        await startVideoProbe(a, 'host-preview');
        const preview = await expectPlayback(a, 'host-preview', {
          windowMs: 3_000,
          meanwhile: async () => {
            await a.click('go-live');
            await a.waitForText('live-state', 'Live');
            await a.waitFor('stop-live');
          },
        });
        t.diagnostic(figuresText('host preview', preview));
        assert.equal(await a.count('host-error'), 0, 'no error on the host page');

        // B signs up, finds A's room live in the list, enters and starts watching
        const b = await open(viewerBrowser);
        await signUp(b, viewerName);
        await b.click('nav-rooms');
        const card = { testId: 'room-card', text: `${hostName}'s room`, has: 'room-live-badge' };
        await b.waitFor(card);
        await screenshot(b, 'room-list');
        await b.click(card);
        await b.waitForText('room-title', `${hostName}'s room`);
        await startVideoProbe(b, 'viewer-video');
        await a.waitForText('room-viewers', '1 viewer');
        const roomUrl = b.url();

        // what re-renders the pages while B watches: chat both ways, an anonymous visitor who
        // stays, and one more viewer who comes and goes
        let c: E2ePage | undefined;
        const meanwhile = async (): Promise<void> => {
          await chat(b, a, 'hello from B');
          await chat(a, b, 'welcome, B!');
          assert.deepEqual(
            await b.field('chat-input'),
            { value: '', disabled: false },
            "B's box is empty after sending",
          );

          c = await open(viewerBrowser);
          await c.goto(roomUrl);
          await c.waitFor({ testId: 'chat-message', text: 'hello from B' });
          await c.waitFor({ testId: 'chat-message', text: 'welcome, B!' });
          assert.equal((await c.field('chat-input')).disabled, true, 'the send box is disabled');
          assert.match(await c.text('chat-hint'), /Log in/);
          await c.waitFor('nav-login');
          await b.waitForText('room-viewers', '2 viewers');

          const d = await open(hostBrowser);
          await d.goto(roomUrl);
          await b.waitForText('room-viewers', '3 viewers');
          await d.close();
          await b.waitForText('room-viewers', '2 viewers');
          await a.waitForText('room-viewers', '2 viewers');
        };

        const watched = await expectPlayback(b, 'viewer-video', { meanwhile });
        t.diagnostic(figuresText(`viewer of a ${hostBrowser} host`, watched));
        const [sending] = await a.evaluate<RtcVideoStats[]>(inPage('rtcStats'));
        t.diagnostic(`host (${hostBrowser}) sends ${JSON.stringify(sending?.outbound)}`);
        await b.waitForText('viewer-state', 'Playing');
        if (kms) {
          assert.ok(
            kms.objects('WebRtcEndpoint').length >= 3,
            'the host, B and C each have a WebRtcEndpoint',
          );
          assert.ok(
            kms.calls({ method: 'invoke', operation: 'addIceCandidate' }).length >= 3,
            "the browsers' ICE candidates trickle through to KMS",
          );
        }
        await screenshot(a, 'host-live');
        await screenshot(b, 'viewer');
        await screenshot(c!, 'anonymous');

        // A stops: viewers go back to waiting, and KMS holds nothing of the room any more
        await a.click('stop-live');
        await a.waitForText('live-state', 'You are offline');
        await b.waitForText('viewer-state', 'Waiting for the host…');
        await c!.waitForText('viewer-state', 'Waiting for the host…');
        await b.waitFor('viewer-video', { state: 'detached' });
        await eventually('KMS to hold no objects of the room', async () => (await kmsObjects()).length === 0);
        await screenshot(b, 'viewer-after-stop');
      });
    },
  );
}

for (const browser of ['chromium', 'firefox'] as const) {
  test(`a viewer in ${browser} follows the host through a second live, and waits again when the host leaves`, async (t) => {
    await withPages(t, async (open) => {
      const a = await openHostRoom(open, browser, `host2_${randomUUID().slice(0, 6)}`);

      // B is in the room before the live starts
      const b = await open(browser);
      await b.goto(a.url());
      await b.waitForText('viewer-state', 'Waiting for the host…');

      for (let round = 1; round <= 2; round++) {
        await a.click('go-live');
        await a.waitForText('live-state', 'Live');
        const watched = await expectPlayback(b, 'viewer-video', { windowMs: 2_000 });
        t.diagnostic(figuresText(`viewer, live ${round}`, watched));
        await b.waitForText('viewer-state', 'Playing');
        if (round === 1) {
          await a.click('stop-live');
          await b.waitForText('viewer-state', 'Waiting for the host…');
        }
      }

      // the host closes the page: the live ends with them
      await a.close();
      await b.waitForText('viewer-state', 'Waiting for the host…');
      await b.waitForText('viewer-notice', 'The live ended because the host left.');
      await eventually('KMS to hold no objects of the room', async () => (await kmsObjects()).length === 0);
    });
  });

  test(`the sign-up and log-in forms show the server’s message inline (${browser})`, async (t) => {
    await withPages(t, async (open) => {
      const page = await open(browser);
      await page.goto(`${app.url}/#/signup`);
      await page.fill('auth-name', `short_${randomUUID().slice(0, 6)}`);
      await page.fill('auth-password', 'short');
      await page.click('auth-submit');
      await page.waitFor({ testId: 'auth-error', text: 'at least 8 characters' });

      await page.click('nav-login');
      await page.fill('auth-name', 'nobody_here');
      await page.fill('auth-password', 'wrong-password');
      await page.click('auth-submit');
      await page.waitForText('auth-error', 'Wrong name or password.');
      await screenshot(page, 'login-error');
    });
  });
}

test(
  'viewers in Chromium and Firefox watch a live for a minute while chat and viewer counts keep changing',
  {
    skip: !SOAK && 'set THEIA_E2E_SOAK=1 to run (a minute long)',
    timeout: 180_000,
  },
  async (t) => {
    await withPages(t, async (open) => {
      const a = await openHostRoom(open, 'chromium', `soak_${randomUUID().slice(0, 6)}`);
      await a.click('go-live');
      await a.waitForText('live-state', 'Live');
      const viewers = await Promise.all(
        (['chromium', 'firefox'] as const).map(async (browser) => {
          const viewer = await open(browser);
          await viewer.goto(a.url());
          await startVideoProbe(viewer, 'viewer-video');
          return viewer;
        }),
      );
      const started = Date.now();
      const meanwhile = async (): Promise<void> => {
        for (let i = 1; Date.now() - started < 55_000; i++) {
          await chat(a, viewers[i % 2]!, `message ${i}`);
          const extra = await open('chromium');
          await extra.goto(a.url());
          await a.waitForText('room-viewers', '3 viewers');
          await extra.close();
          await a.waitForText('room-viewers', '2 viewers');
        }
      };
      // both viewers' results are reported before the first failure is
      const [results] = await Promise.all([
        Promise.allSettled(
          viewers.map((viewer) => expectPlayback(viewer, 'viewer-video', { windowMs: 60_000 })),
        ),
        meanwhile(),
      ]);
      for (const result of results) {
        if (result.status === 'fulfilled') t.diagnostic(figuresText('a minute watching', result.value));
        else t.diagnostic(String(result.reason));
      }
      for (const result of results) if (result.status === 'rejected') throw result.reason;
    });
  },
);

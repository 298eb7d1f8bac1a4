/**
 * The web client end to end, as people would click it: real Chromium (Debian's, through
 * playwright-core) with a fake camera, the real app on 127.0.0.1, and the fake KMS — or the real
 * KMS at KMS_URI, where the viewer's video must really play.
 *
 * Needs the web build: `npm run build:web` (npm test runs it first).
 * Set THEIA_E2E_SCREENSHOTS=<dir> to save screenshots of the main pages there.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { App } from '../../src/App.js';
import { loadConfig } from '../../src/config.js';
import { FakeKms } from '../support/FakeKms.js';
import { KmsInspector } from '../support/KmsInspector.js';

const WEB_DIR = 'dist/web';
const REAL_KMS_URI = process.env.KMS_URI;
const SCREENSHOTS = process.env.THEIA_E2E_SCREENSHOTS;
const PASSWORD = 'password123';
/** Media through a real KMS takes a few seconds to start; everything else is quick. */
const MEDIA_TIMEOUT_MS = 20_000;

let browser: Browser;
let app: App;
let kms: FakeKms | undefined;
let dataDir: string;
let instanceId: string;

before(async () => {
  if (!existsSync(path.join(WEB_DIR, 'index.html'))) {
    throw new Error(`${WEB_DIR}/index.html is missing: run \`npm run build:web\` before the e2e tests.`);
  }
  kms = REAL_KMS_URI ? undefined : await FakeKms.start();
  dataDir = await mkdtemp(path.join(tmpdir(), 'theia-e2e-'));
  instanceId = `e2e-${randomUUID().slice(0, 8)}`;
  app = await App.create(
    loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      KMS_URI: REAL_KMS_URI ?? kms!.url,
      WEB_DIR,
      INSTANCE_ID: instanceId,
      NODE_ENV: 'test',
    }),
  );
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

after(async () => {
  await browser?.close();
  await app?.close();
  await kms?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** A fresh browser profile (its own localStorage, so its own login) with one page. */
async function openContext(contexts: BrowserContext[]): Promise<Page> {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    permissions: ['camera', 'microphone'],
  });
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error(`[page error] ${err.message}`));
  page.on('console', (msg) => {
    // 4xx answers the page shows as messages are logged by Chromium as failed loads: not news
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) {
      console.error(`[browser console] ${msg.text()}`);
    }
  });
  return page;
}

/** Signs up through the form and waits until the header shows the new name. */
async function signUp(page: Page, name: string): Promise<void> {
  await page.goto(`${app.url}/#/signup`);
  await page.getByTestId('auth-name').fill(name);
  await page.getByTestId('auth-password').fill(PASSWORD);
  await page.getByTestId('auth-submit').click();
  await page.getByTestId('nav-user').filter({ hasText: name }).waitFor();
}

/** Waits until the element with `testId` reads exactly `text`. */
async function waitForText(page: Page, testId: string, text: string, timeout?: number): Promise<void> {
  const exact = new RegExp(`^\\s*${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`);
  await page.getByTestId(testId).filter({ hasText: exact }).waitFor({ timeout });
}

async function screenshot(page: Page, name: string): Promise<void> {
  if (SCREENSHOTS) await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });
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

/** Media objects this app holds in KMS: the fake's object table, or the real KMS's pipelines of this run. */
async function kmsObjects(): Promise<unknown[]> {
  if (kms) return kms.objects();
  const inspector = await KmsInspector.connect(REAL_KMS_URI!);
  try {
    return await inspector.pipelines(`theia/${instanceId}/`);
  } finally {
    inspector.close();
  }
}

test('a host goes live, a viewer watches and both chat; anonymous visitors read only; stopping frees KMS', async () => {
  const contexts: BrowserContext[] = [];
  try {
    const suffix = randomUUID().slice(0, 6);
    const hostName = `host_${suffix}`;
    const viewerName = `viewer_${suffix}`;

    // A signs up, opens their room, goes live
    const a = await openContext(contexts);
    await signUp(a, hostName);
    await a.getByTestId('nav-my-room').click();
    await waitForText(a, 'room-title', `${hostName}'s room`);
    await waitForText(a, 'live-state', 'You are offline');
    await a.getByTestId('host-preview').waitFor();
    await a.getByTestId('go-live').click();
    await waitForText(a, 'live-state', 'Live');
    await a.getByTestId('stop-live').waitFor();
    assert.equal(await a.getByTestId('host-error').count(), 0, 'no error on the host page');

    // B signs up, finds A's room live in the list, enters and starts watching
    const b = await openContext(contexts);
    await signUp(b, viewerName);
    await b.getByTestId('nav-rooms').click();
    const card = b.getByTestId('room-card').filter({ hasText: `${hostName}'s room` });
    await card.getByTestId('room-live-badge').waitFor();
    await screenshot(b, 'room-list');
    await card.click();
    await waitForText(b, 'room-title', `${hostName}'s room`);
    await b.getByTestId('viewer-video').waitFor({ state: 'attached' });
    if (REAL_KMS_URI) {
      await waitForText(b, 'viewer-state', 'Playing', MEDIA_TIMEOUT_MS);
    } else {
      await waitForText(b, 'viewer-state', 'Connecting…');
    }

    // A sees the viewer
    await waitForText(a, 'room-viewers', '1 viewer');

    // chat both ways
    await b.getByTestId('chat-input').fill('hello from B');
    await b.getByTestId('chat-send').click();
    await a.getByTestId('chat-message').filter({ hasText: 'hello from B' }).waitFor();
    await a.getByTestId('chat-input').fill('welcome, B!');
    await a.getByTestId('chat-send').click();
    await b.getByTestId('chat-message').filter({ hasText: 'welcome, B!' }).waitFor();
    assert.equal(await b.getByTestId('chat-input').inputValue(), '', "B's box is empty after sending");
    await screenshot(a, 'host-live');
    await screenshot(b, 'viewer');

    // an anonymous visitor reads the history but cannot send
    const c = await openContext(contexts);
    await c.goto(b.url());
    await c.getByTestId('chat-message').filter({ hasText: 'hello from B' }).waitFor();
    await c.getByTestId('chat-message').filter({ hasText: 'welcome, B!' }).waitFor();
    assert.equal(await c.getByTestId('chat-input').isDisabled(), true, 'the send box is disabled');
    assert.match(await c.getByTestId('chat-hint').innerText(), /Log in/);
    await c.getByTestId('nav-login').waitFor();
    await screenshot(c, 'anonymous');
    await waitForText(a, 'room-viewers', '2 viewers');

    if (!REAL_KMS_URI) {
      // no media flows through the fake KMS: the page must not pretend otherwise
      assert.equal((await b.getByTestId('viewer-state').innerText()).trim(), 'Connecting…');
      assert.ok(kms!.objects('WebRtcEndpoint').length >= 3, 'the host, B and C each have a WebRtcEndpoint');
      assert.ok(
        kms!.calls({ method: 'invoke', operation: 'addIceCandidate' }).length >= 3,
        "the browsers' ICE candidates trickle through to KMS",
      );
    }

    // A stops: viewers go back to waiting, and KMS holds nothing of the room any more
    await a.getByTestId('stop-live').click();
    await waitForText(a, 'live-state', 'You are offline');
    await waitForText(b, 'viewer-state', 'Waiting for the host…');
    await waitForText(c, 'viewer-state', 'Waiting for the host…');
    assert.equal(await b.getByTestId('viewer-video').count(), 0, 'the video element is gone');
    await eventually('KMS to hold no objects of the room', async () => (await kmsObjects()).length === 0);
    await screenshot(b, 'viewer-after-stop');
  } finally {
    await Promise.all(contexts.map((context) => context.close()));
  }
});

test('a viewer follows the host through a second live, and waits again when the host leaves', async () => {
  const contexts: BrowserContext[] = [];
  try {
    const suffix = randomUUID().slice(0, 6);
    const a = await openContext(contexts);
    await signUp(a, `host2_${suffix}`);
    await a.getByTestId('nav-my-room').click();
    await a.getByTestId('host-preview').waitFor();

    // B is in the room before the live starts
    const b = await openContext(contexts);
    await b.goto(a.url());
    await waitForText(b, 'viewer-state', 'Waiting for the host…');

    for (let round = 1; round <= 2; round++) {
      await a.getByTestId('go-live').click();
      await waitForText(a, 'live-state', 'Live');
      await b.getByTestId('viewer-video').waitFor({ state: 'attached' });
      await waitForText(b, 'viewer-state', REAL_KMS_URI ? 'Playing' : 'Connecting…', MEDIA_TIMEOUT_MS);
      if (round === 1) {
        await a.getByTestId('stop-live').click();
        await waitForText(b, 'viewer-state', 'Waiting for the host…');
      }
    }

    // the host closes the page: the live ends with them
    await contexts[0]!.close();
    await waitForText(b, 'viewer-state', 'Waiting for the host…');
    await waitForText(b, 'viewer-notice', 'The live ended because the host left.');
    await eventually('KMS to hold no objects of the room', async () => (await kmsObjects()).length === 0);
  } finally {
    await Promise.all(contexts.map((context) => context.close()));
  }
});

test('the sign-up and log-in forms show the server’s message inline', async () => {
  const contexts: BrowserContext[] = [];
  try {
    const page = await openContext(contexts);
    await page.goto(`${app.url}/#/signup`);
    await page.getByTestId('auth-name').fill(`short_${randomUUID().slice(0, 6)}`);
    await page.getByTestId('auth-password').fill('short');
    await page.getByTestId('auth-submit').click();
    await page.getByTestId('auth-error').filter({ hasText: 'at least 8 characters' }).waitFor();

    await page.getByTestId('nav-login').click();
    await page.getByTestId('auth-name').fill('nobody_here');
    await page.getByTestId('auth-password').fill('wrong-password');
    await page.getByTestId('auth-submit').click();
    await waitForText(page, 'auth-error', 'Wrong name or password.');
    await screenshot(page, 'login-error');
  } finally {
    await Promise.all(contexts.map((context) => context.close()));
  }
});

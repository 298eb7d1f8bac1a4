/**
 * A dropped signalling socket, end to end in Chromium (issue 10, item 1): the page's WebSocket is
 * closed from inside the page and new ones fail for a moment (`dropSockets` in
 * `support/inPage.ts`, as a network blip would), then the page says "Reconnecting…", comes back
 * by itself without a reload, and joins again — a viewer's video plays again; a host's live goes
 * on under the same liveId within the host's grace period (HOST_GRACE_MS), its camera sent again,
 * and the viewer's video plays on.
 *
 * Needs the web build: `npm run build:web`.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test, type TestContext } from 'node:test';
import type { App } from '../../src/App.js';
import { startE2eApp, type E2eApp } from './support/app.js';
import { browserPool, closeAll, type E2ePage } from './support/browsers.js';
import { inPage } from './support/inPage.js';
import { expectPlayback, figuresText, startVideoProbe } from './support/playback.js';

const PASSWORD = 'password123';
/** How long new sockets fail after the drop: long enough for the banner to be seen. */
const OFFLINE_MS = 1_500;
/** How long the page may take to be back (the backoff's tries during OFFLINE_MS, then one more). */
const BACK_WITHIN_MS = 12_000;
/** The server's grace period for a host's dropped connection (the suites' default is 0). */
const HOST_GRACE_MS = 20_000;

const browsers = browserPool();
let e2e: E2eApp;
let app: App;

before(async () => {
  const [, started] = await Promise.all([
    browsers.get('chromium'),
    startE2eApp({ HOST_GRACE_MS: String(HOST_GRACE_MS) }),
  ]);
  e2e = started;
  app = started.app;
});

after(async () => {
  try {
    await browsers.close();
  } finally {
    await e2e?.close();
  }
});

async function signUp(page: E2ePage, name: string): Promise<void> {
  await page.goto(`${app.url}/#/signup`);
  await page.fill('auth-name', name);
  await page.fill('auth-password', PASSWORD);
  await page.click('auth-submit');
  await page.waitFor({ testId: 'nav-user', text: name });
}

/** The room's liveId as the REST API says it. */
async function liveIdOf(roomId: string): Promise<string | null> {
  const res = await fetch(`${app.url}/api/rooms/${encodeURIComponent(roomId)}`);
  assert.equal(res.status, 200);
  const body = (await res.json()) as { room: { liveId: string | null } };
  return body.room.liveId;
}

/** Drops the page's signalling socket; it says "Reconnecting…", then is back without a reload. */
async function dropAndComeBack(page: E2ePage, who: string): Promise<void> {
  const url = page.url();
  const dropped = await page.evaluate<number>(inPage('dropSockets', 4000, OFFLINE_MS));
  assert.ok(dropped >= 1, `${who}: a socket to drop`);
  await page.waitFor('room-reconnecting', { timeout: 5_000 });
  assert.match(await page.text('room-reconnecting'), /Reconnecting…/);
  await page.waitFor('room-reconnecting', { state: 'detached', timeout: BACK_WITHIN_MS });
  assert.equal(page.url(), url, `${who}: the same page`);
  assert.equal(await page.count('room-error'), 0, `${who}: no error banner`);
}

test(
  'a viewer whose socket drops sees "Reconnecting…" and watches again without a reload; a host whose ' +
    'socket drops comes back within the grace period and the live goes on under the same liveId',
  async (t: TestContext) => {
    const pages: E2ePage[] = [];
    const open = async (): Promise<E2ePage> => {
      const page = await (await browsers.get('chromium')).newPage();
      pages.push(page);
      return page;
    };
    try {
      const hostName = `host_${randomUUID().slice(0, 6)}`;
      const host = await open();
      await signUp(host, hostName);
      await host.click('nav-my-room');
      await host.waitForText('room-title', `${hostName}'s room`);
      await host.waitForText('live-state', 'You are offline');
      await host.click('go-live');
      await host.waitForText('live-state', 'Live');
      const roomId = decodeURIComponent(/#\/room\/([^/?#]+)/.exec(host.url())![1]!);
      const liveId = await liveIdOf(roomId);
      assert.ok(liveId, 'the room is live');

      // an anonymous viewer watches
      const viewer = await open();
      await viewer.goto(host.url());
      await viewer.waitForText('room-title', `${hostName}'s room`);
      await startVideoProbe(viewer, 'viewer-video');
      t.diagnostic(figuresText('viewer before', await expectPlayback(viewer, 'viewer-video')));

      // the viewer's socket drops: the server releases its endpoint; the page watches again by itself
      await dropAndComeBack(viewer, 'viewer');
      await viewer.waitFor('viewer-video', { state: 'attached', timeout: BACK_WITHIN_MS });
      await startVideoProbe(viewer, 'viewer-video');
      t.diagnostic(figuresText('viewer after its drop', await expectPlayback(viewer, 'viewer-video')));
      await viewer.waitForText('viewer-state', 'Playing');
      await host.waitForText('room-viewers', '1 viewer');

      // the host's socket drops
      // the viewer is told meanwhile ("The host is reconnecting…" over the video)
      await Promise.all([
        dropAndComeBack(host, 'host'),
        viewer.waitFor('viewer-host-away', { state: 'attached', timeout: 5_000 }),
      ]);
      // back within the grace period: the same live, the camera sent again, the viewer watches on
      await host.waitForText('live-state', 'Live', BACK_WITHIN_MS);
      assert.equal(await liveIdOf(roomId), liveId, 'the live goes on under the same liveId');
      await viewer.waitFor('viewer-host-away', { state: 'detached', timeout: BACK_WITHIN_MS });
      t.diagnostic(
        figuresText('viewer after the host came back', await expectPlayback(viewer, 'viewer-video')),
      );
      assert.equal(await viewer.count('viewer-notice'), 0, 'the viewer never saw the live end');
      assert.equal(await host.count('host-error'), 0, 'no error on the host page');

      await host.click('stop-live');
      await host.waitForText('live-state', 'You are offline');
    } finally {
      await closeAll(pages);
    }
  },
);

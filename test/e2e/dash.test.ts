/**
 * A live's DASH played by the web client's dash.js player in Chromium, under the app's CSP
 * (enforced: a plain playwright-core page, not the e2e harness, whose contexts bypass CSP): the
 * RTP test source stands in for KMS (test/media/fixtures/dashServer.ts: RTP → LiveEgress → the
 * DASH ffmpeg → `/dash/<roomId>/manifest.mpd`, served by dashRouter with `/api/time`). The page is
 * the built client; the `<theia-dash-player>` chunk is loaded as the viewer stage loads it, and
 * the test asserts what a person sees: frames decoded and `currentTime` advancing, and the live
 * latency shown. Reports the start-up time (first segment → playing) and dash.js's latency.
 *
 * Needs the web build (`npm run build:web`) and ffmpeg.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startDashServer, type DashServer } from '../media/fixtures/dashServer.js';

const WEB_DIR = process.env.THEIA_E2E_WEB_DIR ?? 'dist/web';
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
let server: DashServer;
let browser: Browser | undefined;

/** Installed before the page's scripts: CSP violations in `window.__violations`. */
const WATCH_VIOLATIONS = `
  window.__violations = [];
  document.addEventListener('securitypolicyviolation', (e) =>
    window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
`;

before(async () => {
  if (!existsSync(path.join(WEB_DIR, 'index.html')))
    throw new Error(`${WEB_DIR}/index.html is missing: run \`npm run build:web\` before the e2e tests.`);
  server = await startDashServer({ webDir: WEB_DIR, ports: { min: 48_000, max: 48_099 } });
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/**
 * Polls `expression` in the page (page.evaluate: DevTools evaluation, which the CSP does not
 * govern; waitForFunction evals in the page, which it refuses) until truthy.
 */
async function until(page: Page, expression: string, what: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!(await page.evaluate(expression))) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The player's <video>, inside the component's shadow root. */
const VIDEO = `document.querySelector('theia-dash-player')?.shadowRoot?.querySelector('video')`;

test('Chromium plays a live room’s DASH in dash.js, frames advancing, with its latency shown', async () => {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--autoplay-policy=no-user-gesture-required'],
  });
  const page = await browser.newPage();
  await page.addInitScript(WATCH_VIOLATIONS);
  await page.goto(server.url + '/');
  await server.startSource();
  if (server.egress.status !== 'ready')
    await new Promise<void>((resolve) =>
      server.egress.on('change', (s) => {
        if (s === 'ready') resolve();
      }),
    );
  const readyAt = Date.now();

  // the lazily loaded chunk, as viewer-stage imports it when the viewer watches DASH
  const chunk = readdirSync(path.join(WEB_DIR, 'assets')).find((f) => /^dash-player-.*\.js$/.test(f));
  assert.ok(chunk, 'the web build has a dash-player chunk');
  await page.evaluate(`import('/assets/${chunk}').then(() => {
    const el = document.createElement('theia-dash-player');
    el.muted = true;
    el.style.cssText = 'width: 640px; height: 360px; display: block';
    document.body.append(el);
    el.src = ${JSON.stringify(server.mpdPath)};
    return true;
  })`);

  await until(page, `(${VIDEO})?.currentTime > 0`, 'DASH playback starts', 20_000);
  const startupMs = Date.now() - readyAt;
  const sample = (): Promise<{ t: number; frames: number; src: string; paused: boolean }> =>
    page.evaluate(`(() => { const v = ${VIDEO}; return {
      t: v.currentTime, frames: v.getVideoPlaybackQuality().totalVideoFrames, src: v.src, paused: v.paused }; })()`);
  const first = await sample();
  assert.match(first.src, /^blob:/, 'dash.js plays through Media Source Extensions (media-src blob:)');
  await until(page, `(${VIDEO}).currentTime > ${first.t + 2}`, 'currentTime advances by 2 s', 15_000);
  const second = await sample();
  assert.ok(second.frames > first.frames + 30, `frames decoded: ${first.frames} → ${second.frames}`);
  assert.equal(second.paused, false);

  await until(
    page,
    `document.querySelector('theia-dash-player')?.shadowRoot?.querySelector('[data-testid="dash-latency"]')`,
    'the live latency is shown',
    10_000,
  );
  const latencyText = await page.evaluate<string>(
    `document.querySelector('theia-dash-player').shadowRoot.querySelector('[data-testid="dash-latency"]').textContent`,
  );
  const latency = Number(/([\d.]+) s behind live/.exec(latencyText)?.[1]);
  assert.ok(latency > 0 && latency < 10, `latency: ${latencyText}`);
  assert.deepEqual(await page.evaluate('window.__violations'), [], 'dash.js needs nothing the CSP refuses');
  console.log(
    `DASH in Chromium: playing ${startupMs} ms after the first segment; dash.js latency ${latency} s`,
  );
});

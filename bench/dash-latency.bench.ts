/**
 * DASH latency (issue 8: goal under 2.5 s glass to glass). The RTP test source (1 s GOP) stands in
 * for KMS (test/media/fixtures/dashServer.ts: ProgramRelay → LiveEgress → DASH ffmpeg → dashRouter).
 *
 * - To listing: the relay notes when each keyframe's first RTP packet enters the egress input;
 *   with copied video every segment starts at a keyframe and is complete (renamed from `.tmp`,
 *   seen with fs.watch) once the next keyframe has arrived. Per segment: completion − arrival of
 *   its first frame (the oldest frame in it) and − arrival of its last frame (the newest).
 * - In dash.js: headless Chromium plays the manifest with the web client's player; its live
 *   latency (`getCurrentLiveLatency()`, shown as "x s behind live": wall clock synced through
 *   `/api/time` minus the presentation time of the frame on screen) is sampled every 500 ms once
 *   playing. Also: time from the first complete segment to playback.
 *
 * Writes bench/results/dash-latency-<timestamp>.json.
 *
 *   npm run bench
 *   BENCH_DASH_SECONDS=30 node --import tsx bench/dash-latency.bench.ts
 */
import { readdirSync, watch } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startDashServer } from '../test/media/fixtures/dashServer.js';

const seconds = Number(process.env.BENCH_DASH_SECONDS ?? 20);
const WEB_DIR = process.env.THEIA_E2E_WEB_DIR ?? 'dist/web';
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return {
    n: s.length,
    p50: Math.round(percentile(s, 50)),
    p95: Math.round(percentile(s, 95)),
    max: Math.round(s.at(-1) ?? NaN),
  };
};
const VIDEO = `document.querySelector('theia-dash-player')?.shadowRoot?.querySelector('video')`;
const LATENCY = `document.querySelector('theia-dash-player')?.shadowRoot?.querySelector('[data-testid="dash-latency"]')?.textContent ?? ''`;

const server = await startDashServer({ webDir: WEB_DIR, ports: { min: 48_200, max: 48_299 } });
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--no-sandbox', '--disable-gpu', '--autoplay-policy=no-user-gesture-required'],
});
let report;
try {
  const completions: Array<{ name: string; at: number }> = [];
  const ready = new Promise<void>((resolve) => server.egress.on('change', (s) => s === 'ready' && resolve()));
  await server.startSource();
  await ready;
  const firstSegmentAt = Date.now();
  const roomDir = server.dashDir;
  const watcher = watch(roomDir, (_e, name) => {
    if (
      typeof name === 'string' &&
      /^chunk-stream0-.*\.m4s$/.test(name) &&
      readdirSync(roomDir).includes(name)
    )
      completions.push({ name, at: Date.now() });
  });

  const page = await browser.newPage();
  await page.goto(server.url + '/');
  const chunk = readdirSync(path.join(WEB_DIR, 'assets')).find((f) => /^dash-player-.*\.js$/.test(f));
  await page.evaluate(`import('/assets/${chunk}').then(() => {
    const el = document.createElement('theia-dash-player');
    el.muted = true;
    document.body.append(el);
    el.src = ${JSON.stringify(server.mpdPath)};
  })`);
  while (!(await page.evaluate<boolean>(`(${VIDEO})?.currentTime > 0`)))
    await new Promise((r) => setTimeout(r, 50));
  const playingAfterMs = Date.now() - firstSegmentAt;
  const latencies: number[] = [];
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    await new Promise((r) => setTimeout(r, 500));
    const m = /([\d.]+) s behind live/.exec(await page.evaluate<string>(LATENCY));
    if (m) latencies.push(Number(m[1]) * 1000);
  }
  watcher.close();

  // each completion: the keyframe that closed it is the last one before; its own began one earlier
  const keys = server.relay.keyframeArrivals;
  const oldest: number[] = [];
  const newest: number[] = [];
  for (const { at } of completions) {
    const closing = keys.filter((k) => k <= at).length - 1;
    if (closing < 1) continue;
    oldest.push(at - keys[closing - 1]!);
    newest.push(at - (keys[closing]! - 1000 / 30));
  }
  report = {
    bench: 'dash-latency',
    at: new Date().toISOString(),
    setup:
      'testsrc2 640x360 30 fps, 1 s GOP, H.264 copied + Opus→AAC, -seg_duration 1 -streaming 1 -ldash 1; dash.js 5 liveDelay 2 s',
    seconds,
    segments: completions.length,
    toListingOldestFrameMs: stats(oldest),
    toListingNewestFrameMs: stats(newest),
    dashjsPlayingAfterFirstSegmentMs: playingAfterMs,
    dashjsLiveLatencyMs: stats(latencies),
  };
} finally {
  await browser.close();
  await server.close();
}
console.log(JSON.stringify(report, null, 2));
const dir = path.join(import.meta.dirname, 'results');
await mkdir(dir, { recursive: true });
await writeFile(
  path.join(dir, `dash-latency-${new Date().toISOString().replace(/[:.]/g, '-')}.json`),
  JSON.stringify(report, null, 2) + '\n',
);

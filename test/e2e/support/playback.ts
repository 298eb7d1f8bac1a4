/**
 * Playback as a person sees it: a `<video>` whose picture keeps moving. One probe per video (see
 * `inPage.ts`) samples it every 200 ms; {@link expectPlayback} measures a window of a few seconds
 * while the scenario re-renders the page around it (chat, viewers coming and going), and asserts:
 *
 * - the first frame arrives (within `firstFrameTimeoutMs`);
 * - throughout the window `readyState` ≥ 2 (HAVE_CURRENT_DATA), `videoWidth` > 0, not paused;
 * - `currentTime` rises steadily (about as fast as the wall clock, never still for a second);
 * - frames keep coming: presented frames (`requestVideoFrameCallback`), else
 *   `getVideoPlaybackQuality().totalVideoFrames`, rise at ≥ `minFps`, never still for a second;
 * - no `emptied` after the first frame, and the element is still the same one (a load restarted or
 *   an element re-created blanks the picture even when the counters recover);
 * - on a page that receives video over WebRTC (a viewer), the peer connection's `framesDecoded`
 *   rises too; its codec is reported, and its packet counts explain a missing first frame.
 */
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import type { E2ePage } from './browsers.js';
import {
  inPage,
  specOf,
  type RtcVideoStats,
  type Target,
  type VideoProbeReport,
  type VideoSample,
} from './inPage.js';

/** Options of {@link expectPlayback}. */
export interface PlaybackOptions {
  /** The measured window, ms; default 4000. */
  windowMs?: number;
  /** How long the first frame may take from now, ms; default 20 000 (a real KMS is slow to start). */
  firstFrameTimeoutMs?: number;
  /** Lowest acceptable frame rate over the window; default 5 fps. */
  minFps?: number;
  /**
   * What happens on the pages during the window (send chat, open and close viewers…). The window
   * lasts at least `windowMs` and until this settles; a rejection fails the check.
   */
  meanwhile?: () => Promise<void>;
}

/** What {@link expectPlayback} measured. */
export interface PlaybackFigures {
  browser: string;
  /** ms from the probe's start (see {@link startVideoProbe}) to the first frame; 0 if it was already there. */
  firstFrameMs: number;
  width: number;
  height: number;
  /** Frames per second over the window, by `frameCounter`. */
  fps: number;
  frameCounter: 'presentedFrames' | 'totalVideoFrames';
  /** Seconds of `currentTime` per second of wall clock over the window (≈ 1 when playing). */
  rate: number;
  /** The measured window, ms. */
  windowMs: number;
  /** Longest time without a new frame, ms (sampling every 200 ms). */
  longestStallMs: number;
  /** For a page receiving video over WebRTC: frames decoded per second over the window, and the codec. */
  received?: { decodedFps: number; codec: string };
  /** For a page sending video over WebRTC (a host): what its encoder sent over the window. */
  sent?: { encodedFps: number; codec: string; frameWidth: number; limitation: string };
}

/** Longest still span allowed for `currentTime` and the frame counter. */
const MAX_STALL_MS = 1_000;

/**
 * Starts watching a video as soon as it is in the page, so the first-frame time counts from about
 * when the element appeared. Idempotent for the same element.
 */
export async function startVideoProbe(page: E2ePage, target: Target): Promise<void> {
  const spec = specOf(target);
  await page.waitFor(spec, { state: 'attached' });
  const installed = await page.evaluate<boolean>(inPage('probeVideo', spec));
  assert.ok(installed, `${page.browserName}: no video ${spec.testId} to watch`);
}

/** Text for a report, for failure messages. */
function summary(report: VideoProbeReport | null): string {
  if (!report) return 'no probe';
  const last = report.samples.at(-1);
  return JSON.stringify({
    firstFrameAt: report.firstFrameAt,
    emptied: report.emptied,
    sameElement: report.sameElement,
    last,
  });
}

/** The page's received video, summed over its open peer connections; null when it receives none. */
function inbound(stats: RtcVideoStats[]): NonNullable<RtcVideoStats['inbound']> | null {
  const all = stats.flatMap((s) => (s.inbound ? [s.inbound] : []));
  if (all.length === 0) return null;
  return {
    packetsReceived: all.reduce((n, s) => n + s.packetsReceived, 0),
    framesDecoded: all.reduce((n, s) => n + s.framesDecoded, 0),
    keyFramesDecoded: all.reduce((n, s) => n + s.keyFramesDecoded, 0),
    codec: all.map((s) => s.codec).join(','),
  };
}

/** Longest span (ms) over which `value` did not rise. */
function longestStill(
  samples: VideoSample[],
  value: (s: VideoSample) => number,
): { ms: number; text: string } {
  let longest = 0;
  let from = 0;
  let since = samples[0]!;
  for (const sample of samples.slice(1)) {
    if (value(sample) > value(since)) since = sample;
    else if (sample.at - since.at > longest) [longest, from] = [sample.at - since.at, since.at];
  }
  const ms = Math.round(longest);
  const into = ((from - samples[0]!.at) / 1000).toFixed(1);
  const window = ((samples.at(-1)!.at - samples[0]!.at) / 1000).toFixed(1);
  return { ms, text: `${ms} ms (from ${into} s into the ${window} s window)` };
}

/**
 * Asserts that the video plays as a person would see it (see the file's doc) over a window while
 * `meanwhile` runs, and returns the figures. Installs the probe if {@link startVideoProbe} did not.
 */
export async function expectPlayback(
  page: E2ePage,
  target: Target,
  { windowMs = 4_000, firstFrameTimeoutMs = 20_000, minFps = 5, meanwhile }: PlaybackOptions = {},
): Promise<PlaybackFigures> {
  const spec = specOf(target);
  const who = `${page.browserName} ${spec.testId}`;
  await startVideoProbe(page, spec);
  const report = (): Promise<VideoProbeReport | null> => page.evaluate(inPage('videoReport', spec));
  const rtcStats = (): Promise<RtcVideoStats[]> => page.evaluate(inPage('rtcStats'));

  try {
    await page.waitForFunction(
      `${inPage('videoReport', spec)}?.firstFrameAt != null`,
      `the first frame of ${spec.testId}`,
      firstFrameTimeoutMs,
    );
  } catch (err) {
    const rtc = JSON.stringify(await rtcStats());
    assert.fail(
      `${who}: no frame within ${firstFrameTimeoutMs} ms (${summary(await report())}; RTC ${rtc}): ${String(err)}`,
    );
  }

  const [start, startStats] = [(await report())!, await rtcStats()];
  await Promise.all([delay(windowMs), meanwhile?.()]);
  const [end, endStats] = [(await report())!, await rtcStats()];
  const [startRtc, endRtc] = [inbound(startStats), inbound(endStats)];

  assert.ok(end.sameElement, `${who}: the <video> was replaced or removed during the window`);
  assert.equal(
    end.emptiedAfterFirstFrame,
    0,
    `${who}: the <video> was emptied (load restarted) after its first frame`,
  );
  const samples = end.samples.filter((s) => s.at >= start.now);
  assert.ok(samples.length >= 3, `${who}: too few samples (${samples.length}) in the window`);
  const first = samples[0]!;
  const last = samples.at(-1)!;
  const seconds = (last.at - first.at) / 1000;
  for (const s of samples) {
    assert.ok(
      s.readyState >= 2 && s.videoWidth > 0 && !s.paused,
      `${who}: not showing a picture at ${Math.round(s.at - first.at)} ms: ${JSON.stringify(s)}`,
    );
  }

  const rate = (last.currentTime - first.currentTime) / seconds;
  const stillTime = longestStill(samples, (s) => s.currentTime);
  assert.ok(rate > 0.7, `${who}: currentTime rose ${rate.toFixed(2)} s per second (expected about 1)`);
  assert.ok(stillTime.ms < MAX_STALL_MS, `${who}: currentTime stood still for ${stillTime.text}`);

  const frameCounter =
    first.presentedFrames !== null && last.presentedFrames !== null ? 'presentedFrames' : 'totalVideoFrames';
  const frames = (s: VideoSample): number => s[frameCounter] ?? 0;
  const fps = (frames(last) - frames(first)) / seconds;
  const stall = longestStill(samples, frames);
  const longestStallMs = stall.ms;
  assert.ok(fps >= minFps, `${who}: ${fps.toFixed(1)} fps by ${frameCounter} (expected ≥ ${minFps})`);
  assert.ok(longestStallMs < MAX_STALL_MS, `${who}: no new frame for ${stall.text}`);

  let received: PlaybackFigures['received'];
  if (startRtc && endRtc) {
    const decodedFps = (endRtc.framesDecoded - startRtc.framesDecoded) / ((end.now - start.now) / 1000);
    assert.ok(
      decodedFps >= minFps,
      `${who}: decoded ${decodedFps.toFixed(1)} fps (${JSON.stringify(endRtc)})`,
    );
    received = { decodedFps: Math.round(decodedFps * 10) / 10, codec: endRtc.codec };
  }

  // the host's encoder, for the figures: a publisher may go live during the window, so from zero
  let sent: PlaybackFigures['sent'];
  const out = endStats.find((s) => s.outbound)?.outbound;
  if (out) {
    const before = startStats.find((s) => s.outbound)?.outbound?.framesEncoded ?? 0;
    const encodedFps = Math.round(((out.framesEncoded - before) / ((end.now - start.now) / 1000)) * 10) / 10;
    sent = { encodedFps, codec: out.codec, frameWidth: out.frameWidth, limitation: out.limitation };
  }

  return {
    browser: page.browserName,
    firstFrameMs: Math.round(end.firstFrameAt! - end.installedAt),
    width: last.videoWidth,
    height: last.videoHeight,
    fps: Math.round(fps * 10) / 10,
    frameCounter,
    rate: Math.round(rate * 100) / 100,
    windowMs: Math.round(last.at - first.at),
    longestStallMs,
    received,
    sent,
  };
}

/** One line of figures for a test's diagnostics. */
export function figuresText(label: string, f: PlaybackFigures): string {
  return (
    `${label} (${f.browser}): ${f.width}×${f.height}, ${f.fps} fps (${f.frameCounter}), first frame ` +
    `${f.firstFrameMs} ms, currentTime ×${f.rate}, longest stall ${f.longestStallMs} ms over ${f.windowMs} ms` +
    (f.received ? `; received ${f.received.codec}, ${f.received.decodedFps} fps decoded` : '') +
    (f.sent
      ? `; sent ${f.sent.codec} ${f.sent.frameWidth} px wide, ${f.sent.encodedFps} fps encoded (limited by ${f.sent.limitation})`
      : '')
  );
}

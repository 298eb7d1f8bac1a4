/**
 * One RTMP destination of a live (a CDN, YouTube, SRS, nginx-rtmp): one supervised ffmpeg of its
 * own, reading the RTP of its own KMS RtpEndpoint (its own SDP and ports), copying H.264 and
 * encoding AAC into FLV over RTMP. One ffmpeg per destination, apart from the DASH ffmpeg, so
 * that a destination that refuses or drops never stops DASH nor another destination: each is
 * retried alone with its own backoff. (ffmpeg's tee muxer with `onfail=ignore` would keep the
 * others going but could never bring a dropped destination back without restarting them all.)
 *
 * Keyframes: video is copied, so the keyframe interval is the source's — KMS's encoder when it
 * transcodes or mixes, the publisher's when it forwards. CDNs want at most 2 s (YouTube: 2 s);
 * the owner asks KMS for a keyframe on `spawned` (`RtpEndpoint.requestKeyframe`) so a (re)connected
 * push starts within a frame or two, and keeps the publishers' GOP at most 2 s.
 *
 * States (`state` event): `connecting` (ffmpeg spawned: waiting for RTP and the RTMP publish) →
 * `live` (bytes are being sent) → `retrying` (refused, dropped, or stalled; next attempt after a
 * backoff) → `connecting` … ; `failed` (given up: an error retrying cannot fix, or too many
 * failures in a row) and `closed` are final.
 *
 * The stream key is a secret: logs and reasons show the URL as `rtmp://host/app/***`.
 */
import { EventEmitter } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Logger } from '../logger.js';
import type { FfmpegExitError } from '../process/errors.js';
import { FfmpegProcess, type OrphanGuard } from '../process/FfmpegProcess.js';
import { FfmpegSupervisor, type BackoffOptions } from '../process/FfmpegSupervisor.js';
import { rtmpArgs } from './ffmpegArgs.js';

/** The state of one RTMP destination, as the host panel shows it. */
export type RtmpPushState =
  | { state: 'connecting'; attempt: number }
  | { state: 'live' }
  | { state: 'retrying'; reason: string; retryInMs: number; consecutiveFailures: number }
  | { state: 'failed'; reason: string }
  | { state: 'closed' };

export interface RtmpPushOptions {
  /** `rtmp://host[:port]/app/streamKey` or `rtmps://…` (other schemes throw `TypeError`). */
  url: string;
  /** The SDP offered to this destination's egress RtpEndpoint (`writeEgressSdp`). */
  sdp: string;
  logger: Logger;
  /** ffmpeg binary. Default `ffmpeg`. */
  ffmpegPath?: string;
  /** AAC bitrate, kbit/s. Default 128. */
  audioBitrateKbps?: number;
  /** Restart backoff (ms). Default: FfmpegSupervisor's, with at most 50 failures in a row. */
  restart?: BackoffOptions;
  /** A started push without progress for this long (ms) is restarted. Default 10000. */
  stallTimeoutMs?: number;
  /** SIGTERM → SIGKILL grace at stop, ms. Default 3000. */
  killGraceMs?: number;
  orphanGuard?: OrphanGuard;
}

/** Typed events of RtmpPush. */
export interface RtmpPushEvents {
  state: [state: RtmpPushState];
  /** A new ffmpeg listens on this destination's RTP ports: ask KMS for a keyframe now. */
  spawned: [pid: number | undefined, attempt: number];
  close: [];
}

/**
 * Splits an RTMP URL into what may be shown and the secret stream key. Throws `TypeError` unless
 * it is an `rtmp://` or `rtmps://` URL with an app and a key (`rtmp://host/app/key`).
 */
export function parseRtmpUrl(url: string): { redacted: string; secret: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError('RTMP destination must be a URL like rtmp://host/app/streamKey');
  }
  if (parsed.protocol !== 'rtmp:' && parsed.protocol !== 'rtmps:') {
    throw new TypeError(`RTMP destination must use rtmp:// or rtmps:// (got ${parsed.protocol}//)`);
  }
  const segments = parsed.pathname.split('/').filter((s) => s.length > 0);
  if (segments.length < 2)
    throw new TypeError('RTMP destination needs an app and a stream key: rtmp://host/app/key');
  const app = segments[0] ?? '';
  const secret = url.slice(url.indexOf(`/${app}/`) + app.length + 2);
  return { redacted: `${parsed.protocol}//${parsed.host}/${app}/***`, secret };
}

// ffmpeg errors that the next attempt would meet again: give up at once
const PERMANENT =
  /Protocol not found|Unrecognized option|Option not found|Unknown encoder|Invalid data found when processing input/i;

export class RtmpPush extends EventEmitter<RtmpPushEvents> {
  readonly #log: Logger;
  readonly #redactedUrl: string;
  readonly #sdpDir: string;
  readonly #supervisor: FfmpegSupervisor;
  #state: RtmpPushState = { state: 'connecting', attempt: 0 };
  #closed = false;
  #stopped: Promise<void> | undefined;

  /**
   * Validates the URL (`TypeError`), writes the SDP to a private temporary directory and starts
   * the push.
   */
  static async create(options: RtmpPushOptions): Promise<RtmpPush> {
    const { redacted, secret } = parseRtmpUrl(options.url);
    const sdpDir = await mkdtemp(path.join(tmpdir(), 'theia-rtmp-'));
    try {
      const sdpPath = path.join(sdpDir, 'egress.sdp');
      await writeFile(sdpPath, options.sdp, { mode: 0o600 });
      return new RtmpPush(options, sdpDir, sdpPath, redacted, secret);
    } catch (err) {
      await rm(sdpDir, { recursive: true, force: true });
      throw err;
    }
  }

  private constructor(
    options: RtmpPushOptions,
    sdpDir: string,
    sdpPath: string,
    redacted: string,
    secret: string,
  ) {
    super();
    this.#log = options.logger.child({ rtmp: redacted });
    this.#redactedUrl = redacted;
    this.#sdpDir = sdpDir;
    const secrets = [options.url, secret];
    this.#supervisor = new FfmpegSupervisor({
      maxConsecutiveFailures: 50,
      ...options.restart,
      logger: this.#log,
      spawn: () =>
        new FfmpegProcess({
          ffmpegPath: options.ffmpegPath,
          args: rtmpArgs({ sdpPath, url: options.url, audioBitrateKbps: options.audioBitrateKbps }),
          logger: this.#log,
          stallTimeoutMs: options.stallTimeoutMs ?? 10_000,
          killGraceMs: options.killGraceMs,
          orphanGuard: options.orphanGuard,
          secrets,
        }),
    });
    this.#supervisor.on('spawned', (child, attempt) => {
      this.#setState({ state: 'connecting', attempt });
      this.emit('spawned', child.pid, attempt);
    });
    this.#supervisor.on('progress', (progress) => {
      // the RTMP publish was accepted before the first report; bytes written means it flows
      if (this.#state.state === 'connecting' && (progress.totalSizeBytes ?? 0) > 0)
        this.#setState({ state: 'live' });
    });
    this.#supervisor.on('retrying', (error, delayMs, failures) => this.#onRetrying(error, delayMs, failures));
    this.#supervisor.on('failed', (error) => this.#fail(error.message));
  }

  /** The URL with the stream key hidden, for display and logs. */
  get redactedUrl(): string {
    return this.#redactedUrl;
  }

  get state(): RtmpPushState {
    return this.#state;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** pid of the current ffmpeg, if one runs. */
  get pid(): number | undefined {
    return this.#supervisor.current?.pid;
  }

  /** Stops the push (SIGTERM, then SIGKILL). Idempotent; emits `close`; see `whenStopped()`. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#supervisor.close();
    if (this.#state.state !== 'failed') this.#setState({ state: 'closed' });
    this.#stopped = this.#supervisor
      .whenStopped()
      .then(() => rm(this.#sdpDir, { recursive: true, force: true }))
      .catch((err: unknown) => this.#log.warn({ err }, 'cannot remove the RTMP SDP file'));
    this.emit('close');
  }

  /** Resolves when, after close(), ffmpeg has exited. Never rejects. */
  async whenStopped(): Promise<void> {
    await this.#stopped;
  }

  #onRetrying(error: FfmpegExitError, retryInMs: number, consecutiveFailures: number): void {
    if (error.kind === 'spawn' || PERMANENT.test(error.detail ?? '')) {
      this.#fail(error.message);
      return;
    }
    this.#setState({
      state: 'retrying',
      reason: error.message,
      retryInMs,
      consecutiveFailures,
    });
  }

  #fail(reason: string): void {
    if (this.#closed) return;
    this.#setState({ state: 'failed', reason });
    this.close();
  }

  #setState(state: RtmpPushState): void {
    this.#state = state;
    this.#log.info({ ...state }, 'RTMP push state');
    this.emit('state', state);
  }
}

/**
 * The DASH (and HLS) output of one live: one supervised ffmpeg that reads the RTP of the egress
 * KMS RtpEndpoint (described by the SDP Theia offered to it), copies H.264, encodes AAC and writes
 * low-latency DASH with HLS playlists over the same fMP4 segments into `outputDir`:
 *
 * ```
 * <outputDir>/manifest.mpd                 DASH manifest (served at /dash/<roomId>/manifest.mpd)
 * <outputDir>/master.m3u8, media_<n>.m3u8  HLS playlists
 * <outputDir>/init-stream<n>-<run>.m4s            init segments (0 = video, 1 = audio)
 * <outputDir>/chunk-stream<n>-<run>-<00001>.m4s  media segments (`.tmp` while being written)
 *
 * `<run>` is new for every ffmpeg run (base-36 time, ms): numbering restarts with each run, and
 * unique names let players and proxies cache segments for long (src/http/dashRouter.ts).
 * ```
 *
 * States (`state` event): `starting` (ffmpeg spawned, no segment yet) → `ready` (the first media
 * segment of this run is complete: the manifest is playable) → `retrying` (ffmpeg failed or died,
 * restart after a backoff) → `starting` … ; `failed` when the supervisor gives up; `closed`.
 * On every (re)spawn `spawned` fires: the owner then asks KMS for a keyframe
 * (`RtpEndpoint.requestKeyframe`), so the first segment does not wait for the next one.
 *
 * Lifetime: `close()` stops ffmpeg (which removes its files, `-remove_at_exit 1`), then this class
 * empties `outputDir` and removes it and the private SDP directory; `whenStopped()` resolves after.
 */
import { EventEmitter } from 'node:events';
import { watch, type FSWatcher, existsSync, readdirSync, rmSync, mkdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Logger } from '../logger.js';
import type { FfmpegExitError } from '../process/errors.js';
import { FfmpegProcess, type FfmpegProgress, type OrphanGuard } from '../process/FfmpegProcess.js';
import { FfmpegSupervisor, type BackoffOptions } from '../process/FfmpegSupervisor.js';
import { dashArgs, type DashArgsOptions } from './ffmpegArgs.js';

/** The state of a DASH output, as the host panel shows it. */
export type DashState =
  | { state: 'starting'; attempt: number }
  | { state: 'ready'; manifestPath: string; hlsMasterPath: string }
  | { state: 'retrying'; reason: string; retryInMs: number; consecutiveFailures: number }
  | { state: 'failed'; reason: string }
  | { state: 'closed' };

export interface DashEgressOptions extends Omit<DashArgsOptions, 'sdpPath' | 'manifestPath'> {
  /** The SDP offered to the egress RtpEndpoint (`writeEgressSdp`), read by ffmpeg. */
  sdp: string;
  /** Directory of this live's DASH/HLS files (created; emptied at start, removed at close). */
  outputDir: string;
  logger: Logger;
  /** ffmpeg binary. Default `ffmpeg`. */
  ffmpegPath?: string;
  /** Restart backoff (ms). Defaults of FfmpegSupervisor. */
  restart?: BackoffOptions;
  /** A started ffmpeg without progress for this long (ms) is restarted. Default 10000. */
  stallTimeoutMs?: number;
  /** SIGTERM → SIGKILL grace at stop, ms. Default 3000. */
  killGraceMs?: number;
  orphanGuard?: OrphanGuard;
}

/** Typed events of DashEgress. */
export interface DashEgressEvents {
  state: [state: DashState];
  /** A new ffmpeg is listening on the RTP ports: ask KMS for a keyframe now. */
  spawned: [pid: number | undefined, attempt: number];
  /** A media segment was completed (file name, e.g. `chunk-stream0-m5x3k2a1-00003.m4s`). */
  segment: [fileName: string];
  progress: [progress: FfmpegProgress];
  close: [];
}

const MANIFEST = 'manifest.mpd';
const HLS_MASTER = 'master.m3u8';
const MEDIA_SEGMENT = /^chunk-stream\d+-(?:[a-z0-9]+-)?\d+\.m4s$/;

/** A tag for one ffmpeg run's segment names, new every time (ms clock, base 36, plus a counter). */
let runCounter = 0;
function newRunTag(): string {
  runCounter = (runCounter + 1) % 1296;
  return Date.now().toString(36) + runCounter.toString(36).padStart(2, '0');
}

export class DashEgress extends EventEmitter<DashEgressEvents> {
  readonly #options: DashEgressOptions;
  readonly #log: Logger;
  readonly #sdpDir: string;
  readonly #sdpPath: string;
  readonly #watcher: FSWatcher;
  #supervisor: FfmpegSupervisor | undefined;
  #state: DashState = { state: 'starting', attempt: 0 };
  #closed = false;
  #stopped: Promise<void> | undefined;

  /**
   * Writes the SDP to a private temporary directory, prepares `outputDir`, and starts ffmpeg.
   * Rejects if the directories cannot be created.
   */
  static async create(options: DashEgressOptions): Promise<DashEgress> {
    const sdpDir = await mkdtemp(path.join(tmpdir(), 'theia-dash-'));
    try {
      const sdpPath = path.join(sdpDir, 'egress.sdp');
      await writeFile(sdpPath, options.sdp, { mode: 0o600 });
      return new DashEgress(options, sdpDir, sdpPath);
    } catch (err) {
      await rm(sdpDir, { recursive: true, force: true });
      throw err;
    }
  }

  private constructor(options: DashEgressOptions, sdpDir: string, sdpPath: string) {
    super();
    this.#options = options;
    this.#log = options.logger;
    this.#sdpDir = sdpDir;
    this.#sdpPath = sdpPath;
    mkdirSync(options.outputDir, { recursive: true });
    this.#emptyOutputDir();
    // segments are renamed from `.tmp` when complete: inotify tells us, no polling
    this.#watcher = watch(options.outputDir, (_event, fileName) => {
      if (typeof fileName === 'string') this.#onFile(fileName);
    });
    this.#watcher.on('error', (err) => this.#log.warn({ err }, 'cannot watch the DASH directory'));
    this.#supervisor = this.#createSupervisor();
  }

  /** Path of the DASH manifest (exists once `ready`). */
  get manifestPath(): string {
    return path.join(this.#options.outputDir, MANIFEST);
  }

  /** Path of the HLS master playlist (exists once `ready`). */
  get hlsMasterPath(): string {
    return path.join(this.#options.outputDir, HLS_MASTER);
  }

  get state(): DashState {
    return this.#state;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** pid of the current ffmpeg, if one runs. */
  get pid(): number | undefined {
    return this.#supervisor?.current?.pid;
  }

  /**
   * Stops ffmpeg and removes this live's files. Idempotent; emits `close` at once;
   * `whenStopped()` resolves once ffmpeg is gone and the files are removed.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const supervisor = this.#supervisor;
    supervisor?.close();
    if (this.#state.state !== 'failed') this.#setState({ state: 'closed' });
    this.#stopped = (async () => {
      await supervisor?.whenStopped();
      this.#watcher.close();
      await rm(this.#options.outputDir, { recursive: true, force: true });
      await rm(this.#sdpDir, { recursive: true, force: true });
    })().catch((err: unknown) => this.#log.warn({ err }, 'cannot remove DASH files'));
    this.emit('close');
  }

  /** Resolves when, after close(), ffmpeg has exited and the files are removed. Never rejects. */
  async whenStopped(): Promise<void> {
    await this.#stopped;
  }

  #createSupervisor(): FfmpegSupervisor {
    const o = this.#options;
    const supervisor = new FfmpegSupervisor({
      ...o.restart,
      logger: this.#log,
      spawn: () => {
        // a SIGKILLed run leaves its segments: start each run from an empty directory
        this.#emptyOutputDir();
        return new FfmpegProcess({
          ffmpegPath: o.ffmpegPath,
          args: dashArgs({
            ...o,
            sdpPath: this.#sdpPath,
            manifestPath: this.manifestPath,
            runTag: o.runTag ?? newRunTag(),
          }),
          logger: this.#log,
          stallTimeoutMs: o.stallTimeoutMs ?? 10_000,
          killGraceMs: o.killGraceMs,
          orphanGuard: o.orphanGuard,
        });
      },
    });
    supervisor.on('spawned', (child, attempt) => {
      this.#setState({ state: 'starting', attempt });
      this.emit('spawned', child.pid, attempt);
    });
    supervisor.on('progress', (progress) => this.emit('progress', progress));
    supervisor.on('retrying', (error: FfmpegExitError, delayMs, failures) =>
      this.#setState({
        state: 'retrying',
        reason: error.message,
        retryInMs: delayMs,
        consecutiveFailures: failures,
      }),
    );
    supervisor.on('failed', (error) => {
      this.#setState({ state: 'failed', reason: error.message });
      this.close();
    });
    return supervisor;
  }

  #onFile(fileName: string): void {
    if (this.#closed || !MEDIA_SEGMENT.test(fileName)) return;
    const dir = this.#options.outputDir;
    if (!existsSync(path.join(dir, fileName))) return; // a removal, not a completion
    if (this.#state.state === 'starting' && existsSync(this.manifestPath)) {
      this.#setState({ state: 'ready', manifestPath: this.manifestPath, hlsMasterPath: this.hlsMasterPath });
    }
    this.emit('segment', fileName);
  }

  #emptyOutputDir(): void {
    const dir = this.#options.outputDir;
    // a handful of small files: synchronous so that the next ffmpeg starts on a clean directory
    for (const name of readdirSync(dir)) rmSync(path.join(dir, name), { recursive: true, force: true });
  }

  #setState(state: DashState): void {
    this.#state = state;
    this.#log.info({ state: state.state }, 'DASH egress state');
    this.emit('state', state);
  }
}

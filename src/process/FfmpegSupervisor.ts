/**
 * Keeps one ffmpeg running while its owner is live: creates a FfmpegProcess through a factory,
 * and when it fails before start-up or dies after it, creates the next one after a capped
 * exponential backoff (`initialDelayMs`, ×`factor` per consecutive failure, at most
 * `maxDelayMs`). A run that stayed up for `stableAfterMs` resets the backoff, so a process that
 * dies once after hours restarts at once-ish, while one that crashes in a loop slows down.
 * After `maxConsecutiveFailures` failures in a row it gives up (`failed`). `close()` stops the
 * current process and cancels any pending restart; nothing is spawned after it.
 *
 * A new process is only spawned once the previous one has exited (its `@failure`/`died` come
 * after its exit), so a restart can bind the same UDP ports.
 */
import { EventEmitter } from 'node:events';
import { InvalidStateError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { FfmpegExitError } from './errors.js';
import type { FfmpegProcess, FfmpegProgress } from './FfmpegProcess.js';

/** Backoff between restarts, all in ms. */
export interface BackoffOptions {
  /** Delay before the first restart after a failure. Default 500. */
  initialDelayMs?: number;
  /** Upper bound of the delay. Default 30000. */
  maxDelayMs?: number;
  /** Growth per consecutive failure. Default 2. */
  factor?: number;
  /** A run that lasts this long resets the backoff and the failure count. Default 10000. */
  stableAfterMs?: number;
  /** Give up after this many failures in a row (`failed`). Default Infinity. */
  maxConsecutiveFailures?: number;
}

export interface FfmpegSupervisorOptions extends BackoffOptions {
  /** Creates the next ffmpeg (called once at start and once per restart). */
  spawn: (attempt: number) => FfmpegProcess;
  logger: Logger;
}

/** Typed events of FfmpegSupervisor. */
export interface FfmpegSupervisorEvents {
  /** A new ffmpeg was created (attempt 1 is the first). Owners e.g. ask KMS for a keyframe now. */
  spawned: [process: FfmpegProcess, attempt: number];
  /** The current ffmpeg reported its first progress. */
  started: [process: FfmpegProcess];
  progress: [progress: FfmpegProgress];
  /** The current ffmpeg ended (failure or death); the next one comes in `delayMs` ms. */
  retrying: [error: FfmpegExitError, delayMs: number, consecutiveFailures: number];
  /** Gave up after `maxConsecutiveFailures` failures in a row; the supervisor is closed. */
  failed: [error: FfmpegExitError];
  /** Closed (close() or `failed`). Once. */
  close: [];
}

export class FfmpegSupervisor extends EventEmitter<FfmpegSupervisorEvents> {
  readonly #options: Required<BackoffOptions>;
  readonly #spawn: (attempt: number) => FfmpegProcess;
  readonly #log: Logger;
  #closed = false;
  #current: FfmpegProcess | undefined;
  #attempt = 0;
  #consecutiveFailures = 0;
  #restartTimer: NodeJS.Timeout | undefined;
  #stableTimer: NodeJS.Timeout | undefined;

  /** Spawns the first process at once. Throws `TypeError` for nonsensical backoff options. */
  constructor(options: FfmpegSupervisorOptions) {
    super();
    this.#options = {
      initialDelayMs: options.initialDelayMs ?? 500,
      maxDelayMs: options.maxDelayMs ?? 30_000,
      factor: options.factor ?? 2,
      stableAfterMs: options.stableAfterMs ?? 10_000,
      maxConsecutiveFailures: options.maxConsecutiveFailures ?? Infinity,
    };
    const o = this.#options;
    if (!(o.initialDelayMs >= 0 && o.maxDelayMs >= o.initialDelayMs)) {
      throw new TypeError('FfmpegSupervisor: need 0 <= `initialDelayMs` <= `maxDelayMs`');
    }
    if (!(o.factor >= 1)) throw new TypeError('FfmpegSupervisor: `factor` must be >= 1');
    if (!(o.maxConsecutiveFailures >= 1)) {
      throw new TypeError('FfmpegSupervisor: `maxConsecutiveFailures` must be >= 1');
    }
    this.#spawn = options.spawn;
    this.#log = options.logger;
    // the first spawn happens on the next tick so that the owner can subscribe to `spawned`
    this.#restartTimer = setTimeout(() => this.#start(), 0);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The running (or starting) ffmpeg; undefined while waiting to restart and after close. */
  get current(): FfmpegProcess | undefined {
    return this.#current;
  }

  /** Failures in a row since the last stable run. */
  get consecutiveFailures(): number {
    return this.#consecutiveFailures;
  }

  /**
   * Stops the current ffmpeg (SIGTERM, then SIGKILL) and any pending restart. Idempotent; emits
   * `close`. Use `whenStopped()` to wait for the process to be gone.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#clearTimers();
    this.#current?.close();
    this.emit('close');
  }

  /** Resolves when no ffmpeg of this supervisor is running. Never rejects. */
  async whenStopped(): Promise<void> {
    const current = this.#current;
    if (current) await current.whenExited();
  }

  /** Kills the current ffmpeg now so that it restarts (e.g. after an input change). */
  restart(): void {
    if (this.#closed) throw new InvalidStateError('This egress is stopped.');
    const current = this.#current;
    if (!current) return;
    this.#consecutiveFailures = 0;
    // closing it ourselves produces no `died`: restart when it is gone
    this.#detach(current);
    current.close();
    this.#current = undefined;
    current
      .whenExited()
      .then(() => {
        if (!this.#closed && !this.#current && !this.#restartTimer) this.#start();
      })
      .catch((err: unknown) => this.#log.error({ err }, 'restart failed'));
  }

  #start(): void {
    this.#restartTimer = undefined;
    if (this.#closed) return;
    this.#attempt += 1;
    const attempt = this.#attempt;
    let child: FfmpegProcess;
    try {
      child = this.#spawn(attempt);
    } catch (err) {
      // a factory that throws is a bug or bad configuration: retrying would not help
      this.#log.error({ err }, 'cannot create ffmpeg');
      this.close();
      return;
    }
    this.#current = child;
    child.on('started', () => {
      this.#stableTimer = setTimeout(() => {
        this.#stableTimer = undefined;
        this.#consecutiveFailures = 0;
      }, this.#options.stableAfterMs);
      this.emit('started', child);
    });
    child.on('progress', (progress) => this.emit('progress', progress));
    child.on('@failure', (error) => this.#onEnded(child, error));
    child.on('died', (error) => this.#onEnded(child, error));
    this.emit('spawned', child, attempt);
  }

  #detach(child: FfmpegProcess): void {
    child.removeAllListeners('started');
    child.removeAllListeners('progress');
    child.removeAllListeners('@failure');
    child.removeAllListeners('died');
    if (this.#stableTimer) clearTimeout(this.#stableTimer);
    this.#stableTimer = undefined;
  }

  #onEnded(child: FfmpegProcess, error: FfmpegExitError): void {
    if (child !== this.#current) return;
    this.#detach(child);
    this.#current = undefined;
    if (this.#closed) return;
    this.#consecutiveFailures += 1;
    if (this.#consecutiveFailures >= this.#options.maxConsecutiveFailures) {
      this.#log.warn({ err: error, failures: this.#consecutiveFailures }, 'ffmpeg keeps failing, giving up');
      this.emit('failed', error);
      this.close();
      return;
    }
    const o = this.#options;
    const delayMs = Math.min(o.maxDelayMs, o.initialDelayMs * o.factor ** (this.#consecutiveFailures - 1));
    this.#log.info(
      { reason: error.message, delayMs, failures: this.#consecutiveFailures },
      'restarting ffmpeg',
    );
    this.#restartTimer = setTimeout(() => this.#start(), delayMs);
    this.emit('retrying', error, delayMs, this.#consecutiveFailures);
  }

  #clearTimers(): void {
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    if (this.#stableTimer) clearTimeout(this.#stableTimer);
    this.#restartTimer = undefined;
    this.#stableTimer = undefined;
  }
}

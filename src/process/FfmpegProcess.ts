/**
 * One supervised ffmpeg child process, modelled on mediasoup's `Worker.ts`: explicit stdio, a
 * failure before start-up (`@failure`) told apart from a death after it (`died`), `closed` and
 * `died` flags, an idempotent `close()` that stops the child with SIGTERM and then SIGKILL.
 * Restarting is not done here: an owner (`FfmpegSupervisor`) creates a new FfmpegProcess.
 *
 * stdio: stdin is ignored and ffmpeg runs with `-nostdin`; stdout carries `-progress pipe:1`
 * (parsed into `progress` events); stderr carries ffmpeg's log, split into lines and written to
 * pino at a level mapped from ffmpeg's (`-loglevel level+…` prefixes every line with its level).
 *
 * No orphan when the app dies, even by SIGKILL. ffmpeg does NOT exit when its stdin reaches EOF
 * (measured with ffmpeg 5.1: it reads 'q' from stdin, and `read()` returning 0 is no key), nor when
 * its stdout/stderr pipes break (it ignores SIGPIPE). So the child is tied to the app another way
 * (`orphanGuard`):
 * - `pdeathsig` (default on Linux when util-linux `setpriv` is on PATH): ffmpeg is exec'd through
 *   `setpriv --pdeathsig KILL --`, so the kernel kills it when the app's thread that spawned it
 *   ends (prctl(2) PR_SET_PDEATHSIG). The pid is ffmpeg's own (setpriv execs it).
 * - `watchdog` (elsewhere): a tiny `/bin/sh` child per ffmpeg blocks on reading its stdin pipe from
 *   the app; when the app dies the pipe reaches EOF and the shell SIGKILLs ffmpeg's pid. It is
 *   killed as soon as ffmpeg exits.
 * - `none`: for tests of the guard itself.
 *
 * Start-up: the child counts as started at its first progress report, i.e. once ffmpeg has opened
 * and probed its inputs, opened its outputs (an RTMP publish is accepted at that point) and written
 * its first packet. An exit before that is a failure (`@failure`), after it a death (`died`).
 *
 * Events, in order on an exit nobody asked for: `exit`, then `@failure` or `died`, then `close`.
 * After `close()`: `close` at once, and `exit` when the process is gone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { EventEmitter } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Logger } from '../logger.js';
import { FfmpegExitError } from './errors.js';
import { ProgressParser, type FfmpegProgress } from './ffmpegProgress.js';

export type { FfmpegProgress };

/** How the child is tied to the app's life (see the module comment). */
export type OrphanGuard = 'pdeathsig' | 'watchdog' | 'none';

/** Options of one ffmpeg child. */
export interface FfmpegProcessOptions {
  /** The ffmpeg binary, a path or a name looked up on PATH. Default `ffmpeg`. */
  ffmpegPath?: string;
  /**
   * ffmpeg arguments (inputs, outputs, codecs). FfmpegProcess puts its own first:
   * `-hide_banner -nostdin -nostats -loglevel level+<logLevel> -progress pipe:1 -stats_period …`.
   */
  args: readonly string[];
  /** Logger for ffmpeg's stderr lines and lifecycle; give it context (`liveId`, `output`). */
  logger: Logger;
  /** ffmpeg log level (`-loglevel`): `error`, `warning`, `info`, … Default `info`. */
  logLevel?: string;
  /** Period of progress reports, ms (`-stats_period`). Default 500. */
  statsPeriodMs?: number;
  /**
   * After close(): ms between SIGTERM and SIGKILL. Default 3000. A second SIGTERM is sent after
   * min(500, killGraceMs / 2) ms, because ffmpeg only interrupts a blocking read (an RTP input
   * gone quiet) on the second signal once transcoding has started.
   */
  killGraceMs?: number;
  /**
   * Once started, a child that reports no progress for this long (ms) is stopped and reported
   * as `died` with kind `stalled`. Progress stops when no input arrives or an output blocks.
   * Default: off.
   */
  stallTimeoutMs?: number;
  /** Default: `pdeathsig` on Linux with `setpriv` on PATH, else `watchdog`. */
  orphanGuard?: OrphanGuard;
  /** Working directory of the child. Default: the app's. */
  cwd?: string;
  /**
   * Strings never to write to logs or error messages (an RTMP stream key): replaced by `***` in
   * the logged arguments, in every stderr line and in `lastError`.
   */
  secrets?: readonly string[];
}

/** How the OS process ended. */
export interface FfmpegExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Typed events of FfmpegProcess. */
export interface FfmpegProcessEvents {
  /** First progress report: inputs probed, outputs open, packets flowing. Once. */
  started: [];
  /** A progress report, every `statsPeriodMs` while running. */
  progress: [progress: FfmpegProgress];
  /** It ended before start-up without close() (spawn error, bad args, refused output, …). */
  '@failure': [error: FfmpegExitError];
  /** It ended after start-up without close() (or stalled and was stopped). */
  died: [error: FfmpegExitError];
  /** The OS process is gone (always emitted once, also after close()). */
  exit: [exit: FfmpegExit];
  /** The object is closed (close() called, or the process ended by itself). Once. */
  close: [];
}

const executableCache = new Map<string, string | undefined>();

/** The absolute path of `name` on PATH, or undefined. Cached per name. */
function findOnPath(name: string): string | undefined {
  if (executableCache.has(name)) return executableCache.get(name);
  let found: string | undefined;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, fsConstants.X_OK);
      found = candidate;
      break;
    } catch {
      // not here
    }
  }
  executableCache.set(name, found);
  return found;
}

/** The guard used when the options name none. */
export function defaultOrphanGuard(): OrphanGuard {
  return process.platform === 'linux' && findOnPath('setpriv') !== undefined ? 'pdeathsig' : 'watchdog';
}

// ffmpeg `-loglevel level+…` lines: "[info] text" or "[dash @ 0x55d…] [warning] text"
const LEVEL_LINE =
  /^(?:\[([^\]]+?) @ 0x[0-9a-f]+\] )?\[(panic|fatal|error|warning|info|verbose|debug|trace)\] ?(.*)$/;

export class FfmpegProcess extends EventEmitter<FfmpegProcessEvents> {
  readonly #log: Logger;
  readonly #child: ChildProcess;
  #watchdog: ChildProcess | undefined;
  readonly #killGraceMs: number;
  readonly #stallTimeoutMs: number | undefined;
  #closed = false;
  #died = false;
  #started = false;
  #exited = false;
  #exit: FfmpegExit | undefined;
  #spawnError: Error | undefined;
  #stalled = false;
  #lastError: string | undefined;
  #lastProgress: FfmpegProgress | undefined;
  #stallTimer: NodeJS.Timeout | undefined;
  readonly #killTimers: NodeJS.Timeout[] = [];
  readonly #exitWaiters: ((exit: FfmpegExit) => void)[] = [];
  readonly #secrets: readonly string[];

  /**
   * Spawns ffmpeg at once. Never throws for a child that cannot start: that is reported with
   * `@failure` (kind `spawn`). Throws `TypeError` for empty `args` or bad numeric options.
   */
  constructor(options: FfmpegProcessOptions) {
    super();
    if (options.args.length === 0) throw new TypeError('FfmpegProcess: `args` must not be empty');
    const statsPeriodMs = options.statsPeriodMs ?? 500;
    if (!(statsPeriodMs > 0)) throw new TypeError('FfmpegProcess: `statsPeriodMs` must be > 0');
    this.#killGraceMs = options.killGraceMs ?? 3000;
    if (!(this.#killGraceMs >= 0)) throw new TypeError('FfmpegProcess: `killGraceMs` must be >= 0');
    this.#stallTimeoutMs = options.stallTimeoutMs;
    this.#log = options.logger;
    this.#secrets = (options.secrets ?? []).filter((secret) => secret.length > 0);
    const guard = options.orphanGuard ?? defaultOrphanGuard();
    const ffmpegPath = options.ffmpegPath ?? 'ffmpeg';
    const ffmpegArgs = [
      '-hide_banner',
      '-nostdin',
      '-nostats',
      '-loglevel',
      `level+${options.logLevel ?? 'info'}`,
      '-progress',
      'pipe:1',
      '-stats_period',
      String(statsPeriodMs / 1000),
      ...options.args,
    ];
    const [command, args] =
      guard === 'pdeathsig'
        ? ['setpriv', ['--pdeathsig', 'KILL', '--', ffmpegPath, ...ffmpegArgs]]
        : [ffmpegPath, ffmpegArgs];

    this.#log.debug(
      { command: ffmpegPath, args: ffmpegArgs.map((arg) => this.#redact(arg)), orphanGuard: guard },
      'spawning ffmpeg',
    );
    this.#child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: options.cwd,
      env: process.env,
      windowsHide: true,
    });
    this.#child.on('error', (err) => this.#onChildError(err));
    this.#child.on('exit', (code, signal) => this.#onExit({ code, signal }));

    const parser = new ProgressParser((progress) => this.#onProgress(progress));
    if (this.#child.stdout) {
      createInterface({ input: this.#child.stdout, crlfDelay: Infinity }).on('line', (line) =>
        parser.push(line),
      );
    }
    if (this.#child.stderr) {
      createInterface({ input: this.#child.stderr, crlfDelay: Infinity }).on('line', (line) =>
        this.#onStderrLine(line),
      );
    }
    if (guard === 'watchdog' && this.#child.pid !== undefined) this.#startWatchdog(this.#child.pid);
  }

  /** The OS pid of ffmpeg; `undefined` if it could not be spawned. */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** True once close() was called or the process ended by itself. */
  get closed(): boolean {
    return this.#closed;
  }

  /** True if the process ended after start-up without close() (or stalled). */
  get died(): boolean {
    return this.#died;
  }

  /** True once the first progress report arrived. */
  get started(): boolean {
    return this.#started;
  }

  /** True once the OS process is gone. */
  get exited(): boolean {
    return this.#exited;
  }

  /** The latest progress report, if any. */
  get lastProgress(): FfmpegProgress | undefined {
    return this.#lastProgress;
  }

  /** The last error line ffmpeg printed (level prefix removed), if any. */
  get lastError(): string | undefined {
    return this.#lastError;
  }

  /** Resolves when the OS process is gone (at once if it already is). Never rejects. */
  whenExited(): Promise<FfmpegExit> {
    if (this.#exit) return Promise.resolve(this.#exit);
    return new Promise((resolve) => this.#exitWaiters.push(resolve));
  }

  /**
   * Stops ffmpeg: SIGTERM now (ffmpeg then finishes its outputs: the DASH muxer writes its last
   * manifest, or removes its files with `-remove_at_exit 1`), a second SIGTERM shortly after,
   * SIGKILL after `killGraceMs`. Idempotent; emits `close` synchronously; `exit` follows when the
   * process is gone (`whenExited()`).
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stalled = false; // asked to stop: whatever was under way is no death any more
    this.#log.debug({ pid: this.pid }, 'closing ffmpeg');
    this.#stop();
    this.emit('close');
  }

  #stop(): void {
    this.#clearStallTimer();
    if (this.#exited || this.#child.pid === undefined) return;
    this.#signal('SIGTERM');
    this.#killTimers.push(
      setTimeout(() => this.#signal('SIGTERM'), Math.min(500, this.#killGraceMs / 2)),
      setTimeout(() => {
        this.#log.warn({ pid: this.pid, killGraceMs: this.#killGraceMs }, 'ffmpeg ignored SIGTERM, killing');
        this.#signal('SIGKILL');
      }, this.#killGraceMs),
    );
  }

  #signal(signal: NodeJS.Signals): void {
    if (this.#exited) return;
    try {
      this.#child.kill(signal);
    } catch (err) {
      this.#log.warn({ err, signal }, 'cannot signal ffmpeg');
    }
  }

  #startWatchdog(pid: number): void {
    // blocks on its stdin (our pipe); EOF means the app is gone: kill ffmpeg
    const watchdog = spawn(
      '/bin/sh',
      ['-c', 'read _ignored; kill -KILL "$1" 2>/dev/null', 'theia-ffmpeg-watchdog', String(pid)],
      { stdio: ['pipe', 'ignore', 'ignore'], windowsHide: true },
    );
    watchdog.on('error', (err) => this.#log.warn({ err }, 'ffmpeg watchdog failed to start'));
    watchdog.stdin?.on('error', () => {}); // EPIPE if it died first: nothing to do
    this.#watchdog = watchdog;
  }

  #redact(text: string): string {
    let out = text;
    for (const secret of this.#secrets) out = out.split(secret).join('***');
    return out;
  }

  #onStderrLine(rawLine: string): void {
    if (rawLine.length === 0) return;
    const line = this.#redact(rawLine);
    const match = LEVEL_LINE.exec(line);
    const level = match?.[2];
    const text = match ? match[3] : line;
    const context = match?.[1];
    const fields = context === undefined ? {} : { ffmpegContext: context };
    switch (level) {
      case 'panic':
      case 'fatal':
      case 'error':
        this.#lastError = text;
        this.#log.warn(fields, `ffmpeg: ${text}`);
        break;
      case 'warning':
        this.#log.info(fields, `ffmpeg: ${text}`);
        break;
      case undefined:
        // not from ffmpeg's logger (setpriv, the dynamic linker): worth keeping as a reason
        this.#lastError = text;
        this.#log.warn(`ffmpeg: ${text}`);
        break;
      default:
        this.#log.debug(fields, `ffmpeg: ${text}`);
    }
  }

  #onProgress(progress: FfmpegProgress): void {
    if (this.#exited) return;
    this.#lastProgress = progress;
    if (!this.#closed) this.#armStallTimer();
    if (!this.#started) {
      this.#started = true;
      this.#log.debug({ pid: this.pid }, 'ffmpeg started');
      this.emit('started');
    }
    this.emit('progress', progress);
  }

  #armStallTimer(): void {
    if (this.#stallTimeoutMs === undefined) return;
    this.#clearStallTimer();
    this.#stallTimer = setTimeout(() => {
      this.#stallTimer = undefined;
      if (this.#closed || this.#exited) return;
      this.#log.warn({ pid: this.pid, stallTimeoutMs: this.#stallTimeoutMs }, 'ffmpeg stalled, stopping it');
      this.#stalled = true;
      this.#stop();
    }, this.#stallTimeoutMs);
  }

  #clearStallTimer(): void {
    if (this.#stallTimer) clearTimeout(this.#stallTimer);
    this.#stallTimer = undefined;
  }

  #onChildError(err: Error): void {
    if (this.#child.pid === undefined && !this.#exited) {
      // spawn failed (ENOENT, EACCES): there is no process and no 'exit' will come
      this.#spawnError = err;
      this.#onExit({ code: null, signal: null });
      return;
    }
    this.#log.warn({ err }, 'ffmpeg child process error');
  }

  #onExit(exit: FfmpegExit): void {
    if (this.#exited) return;
    this.#exited = true;
    this.#exit = exit;
    this.#clearStallTimer();
    for (const timer of this.#killTimers) clearTimeout(timer);
    this.#killTimers.length = 0;
    this.#watchdog?.kill('SIGKILL');
    this.#watchdog = undefined;
    this.#log.debug({ pid: this.pid, ...exit, asked: this.#closed && !this.#stalled }, 'ffmpeg exited');
    this.emit('exit', exit);
    for (const resolve of this.#exitWaiters.splice(0)) resolve(exit);
    if (this.#closed && !this.#stalled) return;

    const error = this.#exitError(exit);
    this.#closed = true;
    if (error.kind === 'spawn' || error.kind === 'failure') {
      this.#log.warn({ err: error }, 'ffmpeg failed before start-up');
      this.emit('@failure', error);
    } else {
      this.#died = true;
      this.#log.warn({ err: error }, 'ffmpeg died');
      this.emit('died', error);
    }
    this.emit('close');
  }

  #exitError(exit: FfmpegExit): FfmpegExitError {
    const detail = this.#lastError;
    const how = exit.signal ? `by ${exit.signal}` : `with code ${String(exit.code)}`;
    const suffix = detail ? `: ${detail}` : '';
    if (this.#spawnError) {
      return new FfmpegExitError(
        'spawn',
        `ffmpeg could not be started: ${this.#spawnError.message}`,
        null,
        null,
        detail,
        {
          cause: this.#spawnError,
        },
      );
    }
    if (this.#stalled) {
      return new FfmpegExitError(
        'stalled',
        `ffmpeg reported no progress for ${String(this.#stallTimeoutMs)} ms and was stopped${suffix}`,
        exit.code,
        exit.signal,
        detail,
      );
    }
    if (!this.#started) {
      return new FfmpegExitError(
        'failure',
        `ffmpeg exited ${how} before start-up${suffix}`,
        exit.code,
        exit.signal,
        detail,
      );
    }
    return new FfmpegExitError('died', `ffmpeg exited ${how}${suffix}`, exit.code, exit.signal, detail);
  }
}

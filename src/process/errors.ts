/**
 * Errors of the child-process layer. These are server-side conditions (an ffmpeg that failed or
 * died, a binary that lacks a feature): they reach logs and the host's egress status, never a
 * JSON-RPC error of their own, so they carry a string `code` rather than an `ErrorCode`.
 */

/** Why a supervised ffmpeg ended without being asked to. */
export type FfmpegExitKind = 'spawn' | 'failure' | 'died' | 'stalled';

/**
 * An ffmpeg child ended without `close()`:
 * - `spawn`: the binary could not be started at all (ENOENT, EACCES);
 * - `failure`: it exited before start-up (before its first progress report: bad arguments, an
 *   input that never arrived, an RTMP server that refused the connection);
 * - `died`: it exited after start-up (an RTMP server that went away, a crash, a signal);
 * - `stalled`: it was started but reported no progress for the stall timeout and was killed.
 *
 * `message` ends with the last error line ffmpeg wrote, when there was one (`detail`).
 */
export class FfmpegExitError extends Error {
  readonly code = 'FFMPEG_EXIT';

  constructor(
    readonly kind: FfmpegExitKind,
    message: string,
    /** Exit code of the process, `null` when it ended by a signal or never started. */
    readonly exitCode: number | null,
    /** Signal that ended the process (`SIGKILL`, …), `null` when it exited by itself. */
    readonly signal: NodeJS.Signals | null,
    /** The last `[error]`/`[fatal]` line ffmpeg printed, without its level prefix. */
    readonly detail: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'FfmpegExitError';
  }
}

/**
 * The ffmpeg binary is missing or lacks something Theia uses (a muxer, an encoder, a decoder, a
 * muxer option). Thrown at start-up by `checkFfmpegCapabilities()`; `missing` lists each lack,
 * and the message says how to fix it.
 */
export class FfmpegCapabilityError extends Error {
  readonly code = 'FFMPEG_CAPABILITY';

  constructor(
    message: string,
    /** What is missing, e.g. `['muxer dash', 'encoder aac']`; `['binary']` if ffmpeg is absent. */
    readonly missing: string[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'FfmpegCapabilityError';
  }
}

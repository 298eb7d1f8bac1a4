/**
 * Typed errors of Theia. Every error a client can see carries a stable numeric `code` (the JSON-RPC
 * error code on the signalling socket, listed in doc/protocol.md) and an HTTP status for the REST API.
 * Messages are written for the user: they say what went wrong and what to do next.
 */
import { ErrorCode } from './protocol/index.js';

export { ErrorCode };

/** Base class: a stable `code`, an HTTP `status`, and the underlying `cause` when there is one. */
export class TheiaError extends Error {
  readonly code: ErrorCode;
  readonly status: number;

  constructor(code: ErrorCode, message: string, options?: { status?: number; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = options?.status ?? 400;
  }
}

/** The caller must log in (or send a valid token) first. HTTP 401. */
export class UnauthenticatedError extends TheiaError {
  constructor(message = 'Log in first.') {
    super(ErrorCode.Unauthenticated, message, { status: 401 });
  }
}

/** The caller is known but not allowed to do this (e.g. not the room's owner). HTTP 403. */
export class ForbiddenError extends TheiaError {
  constructor(message: string) {
    super(ErrorCode.Forbidden, message, { status: 403 });
  }
}

/** The named thing does not exist. HTTP 404. */
export class NotFoundError extends TheiaError {
  constructor(message: string) {
    super(ErrorCode.NotFound, message, { status: 404 });
  }
}

/** The request conflicts with existing data (e.g. the user name is taken). HTTP 409. */
export class ConflictError extends TheiaError {
  constructor(message: string) {
    super(ErrorCode.Conflict, message, { status: 409 });
  }
}

/** The request does not fit the current state (e.g. `publishVideo` before `startLive`). HTTP 409. */
export class InvalidStateError extends TheiaError {
  constructor(message: string) {
    super(ErrorCode.InvalidState, message, { status: 409 });
  }
}

/** The caller sends too often. HTTP 429. */
export class RateLimitedError extends TheiaError {
  constructor(message: string) {
    super(ErrorCode.RateLimited, message, { status: 429 });
  }
}

/** Input failed validation. HTTP 400. */
export class InvalidParamsError extends TheiaError {
  constructor(message: string, cause?: unknown) {
    super(ErrorCode.InvalidParams, message, { status: 400, cause });
  }
}

/** The media server answered with an error, or the media graph failed. HTTP 502. */
export class MediaError extends TheiaError {
  /** The Kurento error code (e.g. 40201 SDP_PARSE_ERROR) when KMS gave one. */
  readonly kmsCode: number | undefined;

  constructor(message: string, options?: { kmsCode?: number; cause?: unknown }) {
    super(ErrorCode.MediaError, message, { status: 502, cause: options?.cause });
    this.kmsCode = options?.kmsCode;
  }
}

/** The media server is not reachable right now (down, restarting, or not answering in time). HTTP 503. */
export class MediaUnavailableError extends TheiaError {
  constructor(
    message = 'The media server is not available right now. Try again in a moment.',
    cause?: unknown,
  ) {
    super(ErrorCode.MediaUnavailable, message, { status: 503, cause });
  }
}

/** Start-up failed because the data file cannot be read; names the file. */
export class StoreCorruptError extends Error {
  constructor(
    readonly file: string,
    cause: unknown,
  ) {
    super(
      `The data file ${file} is not valid Theia data (${cause instanceof Error ? cause.message : String(cause)}). ` +
        'Theia did not change it. Restore it from a backup, or move it away to start with an empty store.',
      { cause },
    );
    this.name = 'StoreCorruptError';
  }
}

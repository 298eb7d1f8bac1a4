/**
 * Errors the client shows to people. The server writes its messages for users (what went wrong,
 * what to do next), so `message` is displayed as it is; `code` is the stable ErrorCode of
 * src/protocol/, or one of the client's own below.
 */
import { ErrorCode } from './protocol.js';

/** Codes for failures that never reached the server. */
export const ClientErrorCode = {
  /** The server could not be reached, or the signalling socket closed. */
  Network: -1,
  /** A request got no answer in time. */
  Timeout: -2,
  /** The server answered with something that is not what the protocol says. */
  BadResponse: -3,
  /** The operation was abandoned because its owner closed (page left, live stopped). */
  Aborted: -4,
} as const;

/** Base class: a user-facing message and a stable code. */
export class TheiaClientError extends Error {
  readonly code: number;

  constructor(code: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A REST call failed: the body's `{error: {code, message}}`, and the HTTP status. */
export class ApiError extends TheiaClientError {
  readonly status: number;

  constructor(status: number, code: number, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.status = status;
  }

  get unauthenticated(): boolean {
    return this.status === 401 || this.code === (ErrorCode.Unauthenticated as number);
  }
}

/** A JSON-RPC request failed: the error object's `{code, message}`. */
export class RpcError extends TheiaClientError {}

/** The message to show for any thrown value. */
export function messageOf(err: unknown): string {
  if (err instanceof Error && err.message) return err.message;
  return 'Something went wrong. Try again.';
}

/**
 * Helpers every router uses: zod validation of bodies, the JSON error shape, and the bearer token.
 */
import type { Request, Response } from 'express';
import type { z } from 'zod';
import type { AuthService } from '../auth/AuthService.js';
import { ErrorCode, InvalidParamsError, UnauthenticatedError } from '../errors.js';
import { describeIssues } from '../signalling/schemas.js';
import type { UserRecord } from '../store/Store.js';

/**
 * Parses `value` with `schema`.
 * @throws InvalidParamsError (400) naming each field that failed.
 */
export function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new InvalidParamsError(`Invalid request: ${describeIssues(r.error)}.`, r.error);
  return r.data;
}

/** Answers `{"error": {"code", "message"}}` with `status`. */
export function sendError(res: Response, status: number, code: ErrorCode, message: string): void {
  res.status(status).json({ error: { code, message } });
}

/** The `Authorization: Bearer <token>` token, if any. */
export function bearer(req: Request): string | undefined {
  const h = req.headers.authorization;
  return h?.startsWith('Bearer ') ? h.slice(7) : undefined;
}

/**
 * The user of the request's bearer token.
 * @throws UnauthenticatedError (401) without a token, or for an expired or revoked one.
 */
export function requireUser(auth: AuthService, req: Request): UserRecord {
  const token = bearer(req);
  if (!token)
    throw new UnauthenticatedError('Send your token as "Authorization: Bearer <token>". Log in to get one.');
  return auth.authenticate(token);
}

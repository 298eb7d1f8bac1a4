/**
 * `/api/users`, `/api/login`, `/api/logout`, `/api/me`: sign-up, passport-local login (limited per
 * address, and delayed per account after failures, OWASP-style), logout, and who I am.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import passport from 'passport';
import { Strategy as LocalStrategy } from 'passport-local';
import { z } from 'zod';
import { publicUser, type AuthService } from '../auth/AuthService.js';
import { LoginThrottle } from '../auth/LoginThrottle.js';
import { mixedScripts, normalizeUserName } from '../auth/userNames.js';
import type { Config } from '../config.js';
import { ErrorCode, UnauthenticatedError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Store, UserRecord } from '../store/Store.js';
import { bearer, parse, requireUser, sendError } from './requests.js';

/** `Latin and Cyrillic`; the catch-all `Other` reads as "another script". */
const listScripts = (scripts: string[]): string =>
  scripts.map((s) => (s === 'Other' ? 'another script' : s)).join(' and ');

/**
 * User names: NFKC-normalised ({@link normalizeUserName}), then 3–32 letters, digits, `_` or `-`,
 * in one script (see auth/userNames.ts for the rule and the CJK combinations it allows).
 */
export const userName = z
  .string()
  .overwrite(normalizeUserName)
  .regex(/^[\p{L}\p{N}_-]{3,32}$/u, 'must be 3 to 32 letters, digits, _ or -')
  .superRefine((name, ctx) => {
    const scripts = mixedScripts(name);
    if (scripts)
      ctx.addIssue({
        code: 'custom',
        message: `must be written in one script, but mixes ${listScripts(scripts)} letters (names that mix scripts can look like someone else's)`,
      });
  });
/** Passwords: 8–128 characters. */
export const password = z
  .string()
  .min(8, 'must be at least 8 characters')
  .max(128, 'must be at most 128 characters');

const credentials = z.object({ name: userName, password });
const loginBody = z.object({ name: z.string().min(1).max(64), password: z.string().min(1).max(128) });

export function createAuthRouter({
  config,
  store,
  auth,
  log,
}: {
  config: Config;
  store: Store;
  auth: AuthService;
  log: Logger;
}): express.Router {
  passport.use(
    new LocalStrategy(
      { usernameField: 'name', passwordField: 'password', session: false },
      (name, pw, done) => {
        auth.checkPassword(name, pw).then(
          (user) => done(null, user ?? false),
          (err: unknown) => done(err),
        );
      },
    ),
  );

  const loginLimiter = rateLimit({
    windowMs: 60_000,
    limit: config.loginRateLimitPerMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    // these two would console.error; the warnings go through pino instead (above and below)
    validate: { trustProxy: false, xForwardedForHeader: false },
    handler: (_req, res) =>
      sendError(
        res,
        429,
        ErrorCode.RateLimited,
        'Too many attempts from your address. Wait a minute and try again.',
      ),
  });

  const throttle = new LoginThrottle({
    freeFailures: config.loginDelay.freeFailures,
    baseDelayMs: config.loginDelay.baseMs,
    maxDelayMs: config.loginDelay.maxMs,
  });
  let warnedForwardedFor = false;
  const warnForwardedFor = (req: Request, _res: Response, next: NextFunction): void => {
    if (!warnedForwardedFor && config.trustProxy === false && req.headers['x-forwarded-for'] !== undefined) {
      warnedForwardedFor = true;
      log.warn(
        { ip: req.ip },
        'X-Forwarded-For received but TRUST_PROXY is off: the connecting address counts as the client. Behind a reverse proxy, set TRUST_PROXY to its address.',
      );
    }
    next();
  };

  /** passport-local: the user whose name and password are in the body, or false. */
  const authenticateLocal = (req: Request, res: Response): Promise<UserRecord | false> =>
    new Promise((resolve, reject) => {
      const authenticate = passport.authenticate(
        'local',
        { session: false },
        (err: Error | null, user: UserRecord | false) => (err ? reject(err) : resolve(user)),
      ) as express.RequestHandler;
      void authenticate(req, res, (err?: unknown) =>
        reject(err instanceof Error ? err : new Error(String(err))),
      );
    });

  const router = express.Router();

  router.post('/users', warnForwardedFor, loginLimiter, async (req, res) => {
    const { name, password: pw } = parse(credentials, req.body);
    const user = await auth.signUp(name, pw);
    const { token, expiresAt } = await auth.issueToken(user);
    log.info({ userId: user.id }, 'signed up');
    res.status(201).json({ user: publicUser(user), token, expiresAt });
  });

  router.post('/login', warnForwardedFor, loginLimiter, async (req, res) => {
    const { name } = parse(loginBody, req.body);
    const { failures, delayMs } = await throttle.admit(name); // throws LoginDelayedError (429)
    const user = await authenticateLocal(req, res);
    if (!user) {
      await throttle.failed(name);
      if (delayMs > 0)
        log.warn({ failures, delayMs }, 'failed logins in a row for one name: delaying the next');
      return sendError(res, 401, ErrorCode.Unauthenticated, 'Wrong name or password.');
    }
    await throttle.succeeded(name);
    const { token, expiresAt } = await auth.issueToken(user);
    res.json({ user: publicUser(user), token, expiresAt });
  });

  router.post('/logout', async (req, res) => {
    const token = bearer(req);
    if (!token || !(await auth.revoke(token))) throw new UnauthenticatedError('That token is not valid.');
    res.status(204).end();
  });

  router.get('/me', (req, res) => {
    const user = requireUser(auth, req);
    const room = store.rooms().find((r) => r.ownerId === user.id);
    res.json({ user: publicUser(user), roomId: room?.id ?? null, rtmpToken: user.rtmpToken });
  });

  return router;
}

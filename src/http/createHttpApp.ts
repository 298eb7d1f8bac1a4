/**
 * The express app: REST API under /api (JSON in, JSON out, errors as
 * `{"error": {"code": <ErrorCode>, "message": "…"}}` with a 4xx/5xx status) and the built web client.
 * Every body and path parameter is validated with zod here; auth/ and rooms/ trust their inputs.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import passport from 'passport';
import { Strategy as LocalStrategy } from 'passport-local';
import { z } from 'zod';
import { publicUser, type AuthService } from '../auth/AuthService.js';
import { LoginDelayedError, LoginThrottle } from '../auth/LoginThrottle.js';
import { mixedScripts, normalizeUserName } from '../auth/userNames.js';
import type { Config } from '../config.js';
import {
  ErrorCode,
  ForbiddenError,
  InvalidParamsError,
  NotFoundError,
  TheiaError,
  UnauthenticatedError,
} from '../errors.js';
import type { Logger } from '../logger.js';
import type { RoomManager } from '../rooms/RoomManager.js';
import { describeIssues } from '../signalling/schemas.js';
import type { Store, UserRecord } from '../store/Store.js';
import { securityHeaders } from './securityHeaders.js';

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
const roomPatch = z
  .object({ title: z.string().trim().min(1, 'must not be empty').max(80, 'must be at most 80 characters') })
  .strict();
const verifyBody = z.object({ liveId: z.string().max(100), liveCode: z.string().max(100) });

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new InvalidParamsError(`Invalid request: ${describeIssues(r.error)}.`, r.error);
  return r.data;
}

function sendError(res: Response, status: number, code: ErrorCode, message: string): void {
  res.status(status).json({ error: { code, message } });
}

export interface HttpDeps {
  config: Config;
  store: Store;
  auth: AuthService;
  rooms: RoomManager;
  log: Logger;
}

/** Builds the express app (not listening). */
export function createHttpApp({ config, store, auth, rooms, log }: HttpDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(
    securityHeaders({ publicUrl: config.publicUrl, indexHtml: path.join(config.webDir, 'index.html'), log }),
  );
  // which X-Forwarded-For address is the client's (rate-limit keys): none unless TRUST_PROXY says
  app.set('trust proxy', config.trustProxy);
  if (config.trustProxy === true)
    log.warn(
      'TRUST_PROXY=true believes any X-Forwarded-For: clients not coming through your proxy can pick their own address. Prefer the proxy addresses or a hop count.',
    );

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

  const bearer = (req: Request): string | undefined => {
    const h = req.headers.authorization;
    return h?.startsWith('Bearer ') ? h.slice(7) : undefined;
  };
  const requireUser = (req: Request): UserRecord => {
    const token = bearer(req);
    if (!token)
      throw new UnauthenticatedError(
        'Send your token as "Authorization: Bearer <token>". Log in to get one.',
      );
    return auth.authenticate(token);
  };
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

  const api = express.Router();
  api.use(express.json({ limit: '16kb', strict: false })); // zod judges the shape

  api.get('/config', (_req, res) => {
    res.json({ iceServers: config.iceServers });
  });

  api.post('/users', warnForwardedFor, loginLimiter, async (req, res) => {
    const { name, password: pw } = parse(credentials, req.body);
    const user = await auth.signUp(name, pw);
    const { token, expiresAt } = await auth.issueToken(user);
    log.info({ userId: user.id }, 'signed up');
    res.status(201).json({ user: publicUser(user), token, expiresAt });
  });

  api.post('/login', warnForwardedFor, loginLimiter, async (req, res) => {
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

  api.post('/logout', async (req, res) => {
    const token = bearer(req);
    if (!token || !(await auth.revoke(token))) throw new UnauthenticatedError('That token is not valid.');
    res.status(204).end();
  });

  api.get('/me', (req, res) => {
    const user = requireUser(req);
    const room = store.rooms().find((r) => r.ownerId === user.id);
    res.json({ user: publicUser(user), roomId: room?.id ?? null, rtmpToken: user.rtmpToken });
  });

  api.get('/rooms', (_req, res) => {
    res.json({ rooms: rooms.list() });
  });

  api.get('/rooms/:id', (req, res) => {
    res.json({
      room: rooms.summary(req.params.id),
      webrtc: true,
      mpdUrl: null,
      iceServers: config.iceServers,
    });
  });

  api.patch('/rooms/:id', async (req, res) => {
    const user = requireUser(req);
    const record = store.roomById(req.params.id);
    if (!record) throw new NotFoundError(`There is no room ${req.params.id}.`);
    if (record.ownerId !== user.id) throw new ForbiddenError('Only the owner of this room can change it.');
    const changes = parse(roomPatch, req.body);
    await store.updateRoom(record.id, changes);
    res.json({ room: rooms.summary(record.id) });
  });

  api.delete('/rooms/:id/live', async (req, res) => {
    const user = requireUser(req);
    await rooms.stopLive(req.params.id, user.id);
    res.status(204).end();
  });

  api.post('/lives/verify', (req, res) => {
    const { liveId, liveCode } = parse(verifyBody, req.body);
    const live = store.liveById(liveId);
    res.json({ valid: live !== undefined && live.endedAt === null && live.liveCode === liveCode });
  });

  api.use((req, res) =>
    sendError(res, 404, ErrorCode.NotFound, `No API at ${req.method} ${req.originalUrl}.`),
  );
  app.use('/api', api);

  if (existsSync(config.webDir)) {
    app.use(express.static(config.webDir, { index: 'index.html', maxAge: '1h' }));
    // client-side routes (#/room/…) all load the one page
    app.get(/^\/(?!api\/|ws$).*/, (_req, res) => res.sendFile(path.join(config.webDir, 'index.html')));
  } else {
    log.warn({ webDir: config.webDir }, 'no web build found; run `npm run build:web`');
  }

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof LoginDelayedError) res.set('Retry-After', String(Math.ceil(err.retryAfterMs / 1000)));
    if (err instanceof TheiaError) return sendError(res, err.status, err.code, err.message);
    const e = err as { type?: string; status?: number };
    if (e.type === 'entity.parse.failed')
      return sendError(res, 400, ErrorCode.ParseError, 'The body is not valid JSON.');
    if (e.type === 'entity.too.large')
      return sendError(res, 413, ErrorCode.MessageTooLarge, 'The body is too large.');
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
      return sendError(res, e.status, ErrorCode.InvalidRequest, 'The request could not be read.');
    }
    log.error({ err }, 'request failed');
    sendError(res, 500, ErrorCode.InternalError, 'Something went wrong on the server. Try again.');
  });
  return app;
}

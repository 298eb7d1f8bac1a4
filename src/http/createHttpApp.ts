/**
 * The express app: REST API under /api (JSON in, JSON out, errors as
 * `{"error": {"code": <ErrorCode>, "message": "…"}}` with a 4xx/5xx status), the media KMS fetches
 * (the face-overlay image), and the built web client. One router per resource
 * (authRouter, roomsRouter, livesRouter, destinationsRouter, timeRouter, rtpRouter, whipRouter, dashRouter); every body and path parameter is validated with zod there;
 * auth/ and rooms/ trust their inputs.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { AuthService } from '../auth/AuthService.js';
import { LoginDelayedError } from '../auth/LoginThrottle.js';
import type { Config } from '../config.js';
import { ErrorCode, TheiaError } from '../errors.js';
import type { RtmpIngest } from '../ingest/RtmpIngest.js';
import type { RtpPublishers } from '../ingest/RtpPublishers.js';
import type { Logger } from '../logger.js';
import { FACE_OVERLAY_PATH } from '../media/faceOverlay.js';
import type { RoomManager } from '../rooms/RoomManager.js';
import type { Store } from '../store/Store.js';
import { createAuthRouter } from './authRouter.js';
import { createDashRouter } from './dashRouter.js';
import { createDestinationsRouter } from './destinationsRouter.js';
import { createLivesRouter } from './livesRouter.js';
import { sendError } from './requests.js';
import { createRoomsRouter } from './roomsRouter.js';
import { createRtpRouter } from './rtpRouter.js';
import { securityHeaders } from './securityHeaders.js';
import { createTimeRouter } from './timeRouter.js';
import { createWhipRouter } from './whipRouter.js';

/** Files the app ships for KMS to fetch (the face-overlay PNG), relative to the working directory like WEB_DIR. */
const ASSETS_DIR = path.resolve('assets');

export interface HttpDeps {
  config: Config;
  store: Store;
  auth: AuthService;
  rooms: RoomManager;
  /** RTP pushes of PC clients (the seed's RTP Server). */
  rtp: RtpPublishers;
  /** The RTMP server for OBS, once started (undefined with RTMP_INGEST=off). */
  rtmpIngest: () => RtmpIngest | undefined;
  log: Logger;
}

/** Builds the express app (not listening). */
export function createHttpApp({
  config,
  store,
  auth,
  rooms,
  rtp,
  rtmpIngest,
  log,
}: HttpDeps): express.Express {
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

  const api = express.Router();
  api.use(express.json({ limit: '16kb', strict: false })); // zod judges the shape
  api.get('/config', (_req, res) => {
    res.json({ iceServers: config.iceServers, publishVideoCodec: config.publishVideoCodec });
  });
  api.use(createAuthRouter({ config, store, auth, log }));
  api.use(createTimeRouter()); // GET /api/time: the clock DASH players sync to
  api.use(createDestinationsRouter({ auth, store })); // /api/rooms/:id/destinations (RTMP push)
  api.use('/rooms', createRoomsRouter({ config, auth, rooms }));
  api.use(createRtpRouter({ auth, store, rooms, rtp, rtmpIngest })); // /api/rtp/…, /api/me/rtmp-token, DELETE /api/lives/:id
  api.use('/lives', createLivesRouter({ rooms }));
  api.use((req, res) =>
    sendError(res, 404, ErrorCode.NotFound, `No API at ${req.method} ${req.originalUrl}.`),
  );
  app.use('/api', api);

  // OBS 30+ and any WHIP encoder publish here (RFC 9725, doc/ingest.md)
  app.use('/whip', createWhipRouter({ store, rooms, log }));

  // each live's DASH/HLS files, written by its egress ffmpeg (doc/egress.md)
  app.use('/dash', createDashRouter({ dataDir: config.dataDir }));

  // KMS fetches the overlay when face detection switches on (config MEDIA_PUBLIC_URL)
  app.get(FACE_OVERLAY_PATH, (_req, res) => {
    res.sendFile(path.join(ASSETS_DIR, 'face-overlay.png'), { maxAge: '1d' });
  });

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

/**
 * WHIP, the WebRTC-HTTP Ingestion Protocol (RFC 9725), for OBS 30+ and any WHIP encoder:
 *
 * - `POST /whip/<roomId>` with `Authorization: Bearer <RtmpToken>` (the user's stream key, as for
 *   RTMP) and `Content-Type: application/sdp` (an SDP offer, RFC 8866) → `201 Created` with the
 *   complete SDP answer (`application/sdp`; KMS gathered its candidates first, no trickle) and a
 *   `Location` of the session (RFC 9725 §4.2). The offer goes straight into a KMS WebRtcEndpoint
 *   that is the host's feed (`RoomManager.startIngest(user, 'whip')` + `publishWebRtc`).
 * - `DELETE <Location>` with the same bearer → `200`: the session and its live end (RFC 9725 §4.2).
 * - Errors: no or an unknown bearer → `401`; a room that is not the token owner's → `403`; an
 *   unknown room → `404`; the room live already (another WHIP session, OBS over RTMP, a browser)
 *   → `409`; a body that is not `application/sdp` → `415`; an SDP KMS refuses → `400`.
 *   Trickle ICE (`PATCH`) is not supported: `405` (RFC 9725 §4.3 allows it).
 *
 * Mount it at `/whip` (src/http/createHttpApp.ts).
 */
import { randomUUID } from 'node:crypto';
import express, { type Request } from 'express';
import { z } from 'zod';
import {
  ConflictError,
  ErrorCode,
  ForbiddenError,
  InvalidStateError,
  MediaError,
  NotFoundError,
  TheiaError,
  UnauthenticatedError,
} from '../errors.js';
import type { Logger } from '../logger.js';
import type { IngestLive } from '../rooms/IngestLive.js';
import type { RoomManager } from '../rooms/RoomManager.js';
import type { Store, UserRecord } from '../store/Store.js';
import { bearer, parse, sendError } from './requests.js';

const roomParams = z.object({ roomId: z.string().min(1).max(100) });
const sessionParams = roomParams.extend({ sessionId: z.uuid() });

interface WhipSession {
  id: string;
  roomId: string;
  userId: string;
  ingest: IngestLive;
}

/** The user whose stream key is the request's bearer. @throws UnauthenticatedError */
function streamKeyUser(store: Store, req: Request): UserRecord {
  const token = bearer(req);
  const user = token ? store.userByRtmpToken(token) : undefined;
  if (!user) {
    throw new UnauthenticatedError(
      'Send your stream key as "Authorization: Bearer <stream key>"; the host page shows it.',
    );
  }
  return user;
}

export function createWhipRouter({
  store,
  rooms,
  log,
}: {
  store: Store;
  rooms: RoomManager;
  log: Logger;
}): express.Router {
  const router = express.Router();
  const sessions = new Map<string, WhipSession>();

  router.post('/:roomId', express.text({ type: 'application/sdp', limit: '64kb' }), async (req, res) => {
    const { roomId } = parse(roomParams, req.params);
    const user = streamKeyUser(store, req);
    if (!req.is('application/sdp') || typeof req.body !== 'string' || !req.body.startsWith('v=')) {
      sendError(res, 415, ErrorCode.InvalidRequest, 'Send an SDP offer with Content-Type: application/sdp.');
      return;
    }
    const room = store.roomById(roomId);
    if (!room) throw new NotFoundError(`There is no room ${roomId}.`);
    if (room.ownerId !== user.id) throw new ForbiddenError('This stream key belongs to another room.');
    let ingest: IngestLive;
    try {
      ingest = await rooms.startIngest(user.id, 'whip');
    } catch (err) {
      if (err instanceof InvalidStateError)
        throw new ConflictError('This room is live already. Stop that live first.');
      throw err;
    }
    const session: WhipSession = { id: randomUUID(), roomId, userId: user.id, ingest };
    sessions.set(session.id, session);
    ingest.once('ended', () => {
      sessions.delete(session.id);
      // the live ended elsewhere (a browser, the media server): the host leaves the room too
      rooms.stopIngest(ingest).catch((err: unknown) => log.warn({ err }, 'WHIP host leaving failed'));
    });
    let answer: string;
    try {
      answer = await ingest.publishWebRtc(req.body);
    } catch (err) {
      sessions.delete(session.id);
      await rooms.stopIngest(ingest);
      if (err instanceof MediaError) {
        sendError(res, 400, ErrorCode.InvalidRequest, `The media server refused this offer: ${err.message}`);
        return;
      }
      throw err;
    }
    log.info({ roomId, liveId: ingest.liveId, userId: user.id }, 'live over WHIP');
    res
      .status(201)
      .type('application/sdp')
      .location(`${req.baseUrl}/${encodeURIComponent(roomId)}/${session.id}`)
      .send(answer);
  });

  router.delete('/:roomId/:sessionId', async (req, res) => {
    const { sessionId } = parse(sessionParams, req.params);
    const user = streamKeyUser(store, req);
    const session = sessions.get(sessionId);
    if (!session) throw new NotFoundError('There is no such WHIP session (it ended already).');
    if (session.userId !== user.id)
      throw new ForbiddenError('This WHIP session belongs to another stream key.');
    sessions.delete(sessionId);
    await rooms.stopIngest(session.ingest);
    res.status(200).end();
  });

  router.patch('/:roomId/:sessionId', (_req, res) => {
    res.set('Allow', 'DELETE');
    sendError(res, 405, ErrorCode.InvalidRequest, 'Trickle ICE is not supported: the answer is complete.');
  });

  router.options('/:roomId', (_req, res) => {
    res.set('Allow', 'POST').set('Accept-Post', 'application/sdp').status(204).end();
  });

  // TheiaError → its status; the app's error handler answers anything else
  router.use((err: unknown, _req: Request, res: express.Response, next: express.NextFunction) => {
    if (err instanceof TheiaError) {
      if (err instanceof UnauthenticatedError) res.set('WWW-Authenticate', 'Bearer');
      sendError(res, err.status, err.code, err.message);
      return;
    }
    next(err);
  });
  return router;
}

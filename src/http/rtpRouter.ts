/**
 * REST for lives fed from outside a browser (doc/ingest.md). Mount at `/api`:
 *
 * - `POST /api/rtp/lives` (login token) → `201 {liveId, liveCode}`: an RTP live in the user's room
 *   (409 when the room is live already);
 * - `POST /api/rtp/publish {liveId, liveCode, sdpOffer?}` (scheme 2; the liveCode is the
 *   credential) → `{liveId, address, port, ports, ssrc, payloadTypes, sdpAnswer}`: send RTP
 *   (RFC 3550) there; 403 for an invalid or ended live, 409 when it was published already;
 * - `DELETE /api/lives/:liveId` (login token, the live's owner only) → `204`: stops the live,
 *   whatever feeds it;
 * - `POST /api/me/rtmp-token` (login token) → `{rtmpToken}`: a new stream key; the old one stops
 *   working and a stream using it (RTMP) is cut.
 */
import { randomBytes } from 'node:crypto';
import express from 'express';
import { z } from 'zod';
import type { AuthService } from '../auth/AuthService.js';
import { ForbiddenError, InvalidStateError, NotFoundError } from '../errors.js';
import type { RtmpIngest } from '../ingest/RtmpIngest.js';
import type { RtpPublishers } from '../ingest/RtpPublishers.js';
import type { RoomManager } from '../rooms/RoomManager.js';
import type { Store } from '../store/Store.js';
import { parse, requireUser } from './requests.js';

const publishBody = z.object({
  liveId: z.string().min(1).max(100),
  liveCode: z.string().min(1).max(100),
  sdpOffer: z.string().min(1).max(16_000).optional(),
});
const liveParams = z.object({ liveId: z.string().min(1).max(100) });

export function createRtpRouter({
  auth,
  store,
  rooms,
  rtp,
  rtmpIngest,
}: {
  auth: AuthService;
  store: Store;
  rooms: RoomManager;
  rtp: RtpPublishers;
  /** To cut a stream whose key is regenerated; undefined with RTMP_INGEST=off. */
  rtmpIngest: () => RtmpIngest | undefined;
}): express.Router {
  const router = express.Router();

  router.post('/rtp/lives', async (req, res) => {
    const user = requireUser(auth, req);
    res.status(201).json(await rtp.start(user.id));
  });

  router.post('/rtp/publish', async (req, res) => {
    const { liveId, liveCode, sdpOffer } = parse(publishBody, req.body);
    res.json(await rtp.publish(liveId, liveCode, sdpOffer));
  });

  router.delete('/lives/:liveId', async (req, res) => {
    const user = requireUser(auth, req);
    const { liveId } = parse(liveParams, req.params);
    const record = store.liveById(liveId);
    if (!record || record.endedAt !== null) throw new NotFoundError('This live is not running.');
    const room = store.roomById(record.roomId);
    if (room?.ownerId !== user.id) throw new ForbiddenError('Only the owner of this live can stop it.');
    if (!(await rtp.stop(liveId))) {
      await rooms.stopLive(record.roomId, user.id).catch((err: unknown) => {
        if (!(err instanceof InvalidStateError)) throw err; // ended meanwhile
      });
    }
    res.status(204).end();
  });

  router.post('/me/rtmp-token', async (req, res) => {
    const user = requireUser(auth, req);
    const rtmpToken = randomBytes(18).toString('base64url');
    await store.setRtmpToken(user.id, rtmpToken);
    await rtmpIngest()?.cut(user.id);
    res.json({ rtmpToken });
  });

  return router;
}

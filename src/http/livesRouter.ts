/**
 * `/api/lives`: the seed's 校验推流授权 — whether a LiveId and LiveCode may push media now. The
 * rule lives in rooms/ (a room's live, or a guest's contribution to it, while it runs).
 */
import express from 'express';
import { z } from 'zod';
import type { RoomManager } from '../rooms/RoomManager.js';
import { parse } from './requests.js';

const verifyBody = z.object({ liveId: z.string().max(100), liveCode: z.string().max(100) });

export function createLivesRouter({ rooms }: { rooms: RoomManager }): express.Router {
  const router = express.Router();
  router.post('/verify', (req, res) => {
    const { liveId, liveCode } = parse(verifyBody, req.body);
    res.json({ valid: rooms.verifyLive(liveId, liveCode) });
  });
  return router;
}

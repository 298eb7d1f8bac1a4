/**
 * `/api/rooms`: the room list, one room (with its DASH/HLS addresses, the seed's "房间信息 + mpd"),
 * renaming a room and stopping its live. Room state changes go through rooms/, which tells the
 * people in the room.
 */
import express from 'express';
import { z } from 'zod';
import type { AuthService } from '../auth/AuthService.js';
import type { Config } from '../config.js';
import type { RoomManager } from '../rooms/RoomManager.js';
import { parse, requireUser } from './requests.js';

const roomPatch = z
  .object({ title: z.string().trim().min(1, 'must not be empty').max(80, 'must be at most 80 characters') })
  .strict();

export function createRoomsRouter({
  config,
  auth,
  rooms,
}: {
  config: Config;
  auth: AuthService;
  rooms: RoomManager;
}): express.Router {
  const router = express.Router();

  router.get('/', (_req, res) => {
    res.json({ rooms: rooms.list() });
  });

  router.get('/:id', (req, res) => {
    const room = rooms.summary(req.params.id);
    res.json({ room, webrtc: true, mpdUrl: room.mpdUrl, hlsUrl: room.hlsUrl, iceServers: config.iceServers });
  });

  router.patch('/:id', async (req, res) => {
    const user = requireUser(auth, req);
    const { title } = parse(roomPatch, req.body);
    res.json({ room: await rooms.rename(req.params.id, user.id, title) });
  });

  router.delete('/:id/live', async (req, res) => {
    const user = requireUser(auth, req);
    await rooms.stopLive(req.params.id, user.id);
    res.status(204).end();
  });

  return router;
}

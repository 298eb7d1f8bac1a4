/**
 * `/api/rooms/:id/destinations`: the RTMP destinations (a CDN, YouTube, an SRS cluster) a room's
 * lives are pushed to, for the room's owner only.
 *
 * - `GET` → `{destinations: [{id, url, keyHint}], max}`.
 * - `PUT {destinations: [{id?, url, key?}]}` replaces the list (at most `max` = 3) and answers like
 *   `GET`. `url` is `rtmp://host[:port]/app` or `rtmps://…` without the stream key; `key` is the
 *   stream key. An entry naming the `id` of a stored destination may leave `key` out to keep its
 *   stored key (so a page can edit a URL without ever holding the key); a new entry needs one.
 *
 * The stream key is write-only: it is stored with the room and given to ffmpeg, and never sent
 * back, not even to the owner — answers carry `keyHint` (`…` and its last 4 characters) so the
 * owner can tell keys apart. A changed list applies from the room's next live (the current live
 * keeps pushing where it started pushing). Errors use the API's shape: 400 InvalidParams, 401,
 * 403 (not the owner), 404 (no such room).
 */
import { randomUUID } from 'node:crypto';
import express, { type Request } from 'express';
import { z } from 'zod';
import type { AuthService } from '../auth/AuthService.js';
import { parseRtmpUrl } from '../egress/RtmpPush.js';
import { ForbiddenError, InvalidParamsError, NotFoundError, UnauthenticatedError } from '../errors.js';
import { destinationUrl } from '../rooms/egress.js';
import { describeIssues } from '../signalling/schemas.js';
import type { RoomRecord, RtmpDestinationRecord, Store } from '../store/Store.js';

/** Most RTMP destinations a room may have (each costs an ffmpeg and a KMS endpoint per live). */
export const MAX_DESTINATIONS = 3;

/** A destination as its owner sees it: no key. */
export interface DestinationView {
  id: string;
  url: string;
  /** `…` and the key's last 4 characters (`•••` for keys shorter than 8). */
  keyHint: string;
}

const serverUrl = z
  .string()
  .trim()
  .max(512, 'must be at most 512 characters')
  .refine((u) => {
    try {
      const url = new URL(u);
      return (
        (url.protocol === 'rtmp:' || url.protocol === 'rtmps:') &&
        url.hostname !== '' &&
        url.pathname.replace(/\/+$/, '').length > 1 &&
        url.search === '' &&
        url.hash === '' &&
        url.username === '' &&
        url.password === ''
      );
    } catch {
      return false;
    }
  }, 'must be an rtmp:// or rtmps:// server URL with its app, without the stream key, e.g. rtmp://a.rtmp.youtube.com/live2');

const body = z
  .object({
    destinations: z
      .array(
        z
          .object({
            id: z.string().min(1).max(64).optional(),
            url: serverUrl,
            key: z
              .string()
              .trim()
              .min(1, 'must not be empty')
              .max(512, 'must be at most 512 characters')
              .regex(/^\S+$/, 'must not contain spaces')
              .optional(),
          })
          .strict(),
      )
      .max(MAX_DESTINATIONS, `at most ${MAX_DESTINATIONS} destinations per room`),
  })
  .strict();

function keyHint(key: string): string {
  return key.length >= 8 ? `…${key.slice(-4)}` : '•••';
}

function view(d: RtmpDestinationRecord): DestinationView {
  return { id: d.id, url: d.url, keyHint: keyHint(d.key) };
}

/** The room `req.params.id` for its owner. @throws UnauthenticatedError, NotFoundError, ForbiddenError */
function ownedRoom(auth: AuthService, store: Store, req: Request<{ id: string }>): RoomRecord {
  const header = req.headers.authorization;
  const token = header?.startsWith('Bearer ') ? header.slice(7) : undefined;
  if (!token)
    throw new UnauthenticatedError('Send your token as "Authorization: Bearer <token>". Log in to get one.');
  const user = auth.authenticate(token);
  const room = store.roomById(req.params.id);
  if (!room) throw new NotFoundError(`There is no room ${req.params.id}.`);
  if (room.ownerId !== user.id)
    throw new ForbiddenError("Only the room's owner can see or change where its lives are pushed.");
  return room;
}

export function createDestinationsRouter({
  auth,
  store,
}: {
  auth: AuthService;
  store: Store;
}): express.Router {
  const router = express.Router();

  router.get('/rooms/:id/destinations', (req, res) => {
    const room = ownedRoom(auth, store, req);
    res.set('Cache-Control', 'no-store');
    res.json({ destinations: (room.rtmpDestinations ?? []).map(view), max: MAX_DESTINATIONS });
  });

  router.put('/rooms/:id/destinations', async (req, res) => {
    const room = ownedRoom(auth, store, req);
    const parsed = body.safeParse(req.body);
    if (!parsed.success)
      throw new InvalidParamsError(`Invalid request: ${describeIssues(parsed.error)}.`, parsed.error);
    const stored = new Map((room.rtmpDestinations ?? []).map((d) => [d.id, d]));
    const next: RtmpDestinationRecord[] = parsed.data.destinations.map((d, i) => {
      const before = d.id === undefined ? undefined : stored.get(d.id);
      const key = d.key ?? before?.key;
      if (key === undefined)
        throw new InvalidParamsError(
          `Invalid request: destinations.${i}.key: a new destination needs its stream key.`,
        );
      const url = d.url.replace(/\/+$/, '');
      try {
        parseRtmpUrl(destinationUrl(url, key));
      } catch (err) {
        throw new InvalidParamsError(`Invalid request: destinations.${i}: ${(err as Error).message}.`);
      }
      return { id: before?.id ?? randomUUID(), url, key };
    });
    const full = next.map((d) => destinationUrl(d.url, d.key));
    if (new Set(full).size !== full.length)
      throw new InvalidParamsError('Invalid request: two destinations have the same URL and stream key.');
    await store.updateRoom(room.id, { rtmpDestinations: next });
    res.set('Cache-Control', 'no-store');
    res.json({ destinations: next.map(view), max: MAX_DESTINATIONS });
  });

  return router;
}

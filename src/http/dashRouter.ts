/**
 * `/dash/<roomId>/<file>`: the DASH manifest, HLS playlists and fMP4 segments the egress ffmpeg
 * writes to `<DATA_DIR>/dash/<roomId>/` (src/egress/DashEgress.ts, doc/egress.md), for players on
 * this origin and on others.
 *
 * - Content types: `.mpd` `application/dash+xml` (ISO/IEC 23009-1 Annex C), `.m3u8`
 *   `application/vnd.apple.mpegurl` (RFC 8216 §4), `.m4s` `video/iso.segment` (IANA, ISO/IEC
 *   23009-1 segments; ffmpeg's dash muxer names init segments `.m4s` too). dash.js ignores the
 *   type; Safari's native HLS does not.
 * - Caching: manifests and playlists change every segment: `no-cache`. Segment names carry the
 *   ffmpeg run (`-<run>-`, see ffmpegArgs.ts), so a name never holds two contents and a segment
 *   may be cached for long (`immutable`).
 * - CORS: `Access-Control-Allow-Origin: *` (nothing here depends on cookies or tokens: a live's
 *   DASH is as public as its room) and `Cross-Origin-Resource-Policy: cross-origin`, replacing
 *   helmet's `same-origin`, which would stop other origins' `<video src=…m3u8>` (no-cors) loads.
 * - Only `<roomId>/<name>.<known extension>` is served: no directory listing, no dotfiles, no
 *   path outside `<DATA_DIR>/dash`; anything else, and files that do not exist (yet, or any
 *   more), answer 404 with the API's JSON error shape.
 */
import path from 'node:path';
import express, { type Response } from 'express';
import { ErrorCode } from '../errors.js';

/** Cache lifetime of a media or init segment, s: its name is unique to one ffmpeg run. */
export const SEGMENT_MAX_AGE_S = 24 * 3600;

const TYPES: Record<string, { type: string; cache: string }> = {
  '.mpd': { type: 'application/dash+xml', cache: 'no-cache' },
  '.m3u8': { type: 'application/vnd.apple.mpegurl', cache: 'no-cache' },
  '.m4s': { type: 'video/iso.segment', cache: `public, max-age=${SEGMENT_MAX_AGE_S}, immutable` },
};

/** A room id as the store makes them (UUIDs), conservatively. */
const ROOM_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** A file name: no separators, no leading dot. */
const FILE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/;

function notFound(res: Response): void {
  res
    .status(404)
    .type('application/json') // replaces the file's type set before sendFile
    .set('Cache-Control', 'no-cache')
    .json({
      error: { code: ErrorCode.NotFound, message: 'No such DASH or HLS file (the live may have ended).' },
    });
}

/**
 * The router to mount at `/dash` (before the web client's catch-all route).
 * @param dataDir DATA_DIR: files are read from `<dataDir>/dash`.
 */
export function createDashRouter({ dataDir }: { dataDir: string }): express.Router {
  const root = path.resolve(dataDir, 'dash');
  const router = express.Router({ caseSensitive: true, strict: true });

  router.use((_req, res, next) => {
    res.set({
      'Access-Control-Allow-Origin': '*',
      'Access-Control-Expose-Headers': 'Content-Length, Content-Range, Date',
      'Cross-Origin-Resource-Policy': 'cross-origin',
    });
    next();
  });

  // preflight of a cross-origin player sending Range (not CORS-safelisted for every range)
  router.options('/:roomId/:file', (_req, res) => {
    res
      .set({
        'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS',
        'Access-Control-Allow-Headers': 'Range',
        'Access-Control-Max-Age': '86400',
      })
      .status(204)
      .end();
  });

  router.get('/:roomId/:file', (req, res, next) => {
    const { roomId, file } = req.params;
    const kind = TYPES[path.extname(file)];
    if (!kind || !ROOM_ID.test(roomId) || !FILE_NAME.test(file)) return notFound(res);
    const target = path.join(root, roomId, file);
    // defence in depth: the patterns above already exclude separators and `..`
    if (path.dirname(path.dirname(target)) !== root) return notFound(res);
    res.type(kind.type); // before sendFile, which keeps a Content-Type already set
    res.sendFile(
      target,
      { dotfiles: 'deny', cacheControl: false, headers: { 'Cache-Control': kind.cache } },
      (err?: Error & { code?: string; status?: number }) => {
        if (!err) return;
        if (res.headersSent) return; // the client went away mid-file
        if (err.status === 404 || err.code === 'ENOENT' || err.code === 'EISDIR' || err.code === 'ENOTDIR')
          return notFound(res);
        next(err);
      },
    );
  });

  router.use((_req, res) => notFound(res));
  return router;
}

/**
 * `GET /api/time`: the server's clock for DASH players. ffmpeg's dash muxer writes
 * `<UTCTiming schemeIdUri="urn:mpeg:dash:utc:http-xsdate:2014" value="<-utc_timing_url>"/>`
 * (libavformat/dashenc.c, ffmpeg 5.1), so the body is an `xs:dateTime` (ISO/IEC 23009-1 §5.8.5.7;
 * XML Schema part 2 §3.2.7): ISO 8601 in UTC with milliseconds, e.g. `2025-01-31T12:00:00.123Z`,
 * as `text/plain`. dash.js (`http-xsdate` and `http-iso` alike) reads it with `Date.parse`.
 * Never cached; readable from every origin (players on other sites sync to it too).
 */
import express from 'express';

/** The router to mount on the API router (it answers `/time`). */
export function createTimeRouter(now: () => number = Date.now): express.Router {
  const router = express.Router();
  router.get('/time', (_req, res) => {
    res
      .set({
        'Cache-Control': 'no-store',
        'Access-Control-Allow-Origin': '*',
        'Cross-Origin-Resource-Policy': 'cross-origin',
      })
      .type('text/plain')
      .send(new Date(now()).toISOString());
  });
  return router;
}

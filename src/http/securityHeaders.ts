/**
 * Security headers for every response, with helmet: a Content-Security-Policy that fits the web
 * client, `nosniff`, no framing, a referrer policy, and HSTS when the app is served over https.
 *
 * The policy allows what the client does and what MPEG-DASH playback (dash.js) will need:
 * - scripts, styles, fonts, images and fetches from the app's own origin only (`'self'`); no
 *   inline scripts, no eval;
 * - `connect-src` adds the WebSocket URL of PUBLIC_URL, for browsers that do not count `ws:`/`wss:`
 *   of the page's own host as `'self'` (CSP Level 3 does; older Safari did not);
 * - `media-src blob: mediastream:`: WebRTC streams (`srcObject`) and MSE players (dash.js sets
 *   `video.src` to a `blob:` URL of a MediaSource); `worker-src blob:` for players that start
 *   workers from blobs; `img-src data: blob:` for the inline favicon and snapshots;
 * - inline `<style>` only by hash: Lit components style themselves through adoptedStyleSheets
 *   (constructable stylesheets, which CSP does not govern), so the one inline style is
 *   index.html's own `<style>` block, allowed by its sha256, read from the built page (and read
 *   again when the build changes).
 *   Browsers without adoptedStyleSheets (Safari < 16.4, Firefox < 101) would get Lit's `<style>`
 *   fallback, which this policy blocks.
 * - `frame-ancestors 'none'` (and `X-Frame-Options: DENY` for old browsers): no clickjacking.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { RequestHandler } from 'express';
import helmet from 'helmet';
import type { Logger } from '../logger.js';

/** HSTS max-age when PUBLIC_URL is https: 180 days, in seconds. */
const HSTS_MAX_AGE_S = 180 * 24 * 3600;

/**
 * `'sha256-…'` sources for the inline `<style>` blocks of an HTML file; re-read when the file's
 * mtime changes, empty while it does not exist.
 */
export function inlineStyleHashes(file: string, log?: Logger): () => string[] {
  let seen: number | undefined;
  let hashes: string[] = [];
  return () => {
    let mtime: number | undefined;
    try {
      mtime = statSync(file).mtimeMs;
    } catch {
      mtime = undefined;
    }
    if (mtime === seen) return hashes;
    seen = mtime;
    try {
      const html = mtime === undefined ? '' : readFileSync(file, 'utf8');
      hashes = [...html.matchAll(/<style(?:\s[^>]*)?>([\s\S]*?)<\/style>/gi)].map(
        (m) =>
          `'sha256-${createHash('sha256')
            .update(m[1] ?? '')
            .digest('base64')}'`,
      );
    } catch (err) {
      log?.warn({ err, file }, 'could not read the web page for its style hashes');
      hashes = [];
    }
    return hashes;
  };
}

/**
 * The helmet middleware for this app.
 * @param publicUrl PUBLIC_URL: its scheme decides HSTS and `upgrade-insecure-requests`, its host
 *   the WebSocket source of `connect-src`.
 * @param indexHtml the built web client's index.html, whose inline styles are allowed by hash.
 */
export function securityHeaders(options: {
  publicUrl: string;
  indexHtml: string;
  log?: Logger;
}): RequestHandler {
  const url = new URL(options.publicUrl);
  const https = url.protocol === 'https:';
  const styles = inlineStyleHashes(options.indexHtml, options.log);
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        baseUri: ["'self'"],
        scriptSrc: ["'self'"],
        scriptSrcAttr: ["'none'"],
        styleSrc: [() => ["'self'", ...styles()].join(' ')],
        imgSrc: ["'self'", 'data:', 'blob:'],
        mediaSrc: ["'self'", 'blob:', 'mediastream:'],
        workerSrc: ["'self'", 'blob:'],
        connectSrc: ["'self'", `${https ? 'wss' : 'ws'}://${url.host}`],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        // on plain http (a laptop, a LAN address) it would send the page's own requests to https
        ...(https ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    // not no-referrer: under it browsers send `Origin: null` on some requests (non-CORS POSTs)
    referrerPolicy: { policy: 'strict-origin-when-cross-origin' },
    strictTransportSecurity: https ? { maxAge: HSTS_MAX_AGE_S, includeSubDomains: false } : false,
    xFrameOptions: { action: 'deny' },
  });
}

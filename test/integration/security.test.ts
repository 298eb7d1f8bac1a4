/**
 * Security headers: what every response carries, and that the built web client runs in Chromium
 * under its Content-Security-Policy (with what dash.js will need: MSE blob URLs, blob workers).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { tempDir } from '../support/tempDir.js';
import { startTheia, type Theia } from '../support/theia.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const BUILT_WEB = 'dist/web';

/** `directive → sources` of a Content-Security-Policy header. */
function parseCsp(header: string | null): Map<string, string[]> {
  assert.ok(header, 'Content-Security-Policy is set');
  return new Map(
    header
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((parts) => parts[0])
      .map(([name, ...sources]) => [name!, sources]),
  );
}

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

describe('security headers', () => {
  const style = ':root { --x: 1; }';
  let web: Awaited<ReturnType<typeof tempDir>>;
  let theia: Theia;
  before(async () => {
    web = await tempDir('theia-web-');
    await writeFile(
      path.join(web.dir, 'index.html'),
      `<!doctype html><html><head><style>${style}</style></head><body></body></html>`,
    );
    theia = await startTheia({ env: { WEB_DIR: web.dir } });
  });
  after(async () => {
    await theia.close();
    await web.remove();
  });

  test('pages and API answers carry a CSP that fits the app, nosniff, no framing, a referrer policy', async () => {
    for (const url of ['/', '/room/abc', '/api/rooms', '/api/nothing']) {
      const res = await fetch(theia.url + url);
      await res.arrayBuffer();
      const csp = parseCsp(res.headers.get('content-security-policy'));
      const wsSelf = 'ws://' + new URL(theia.app.config.publicUrl).host;
      assert.deepEqual(Object.fromEntries(csp), {
        'default-src': ["'self'"],
        'base-uri': ["'self'"],
        'script-src': ["'self'"],
        'script-src-attr': ["'none'"],
        'style-src': ["'self'", sha256(style)],
        'img-src': ["'self'", 'data:', 'blob:'],
        'media-src': ["'self'", 'blob:', 'mediastream:'],
        'worker-src': ["'self'", 'blob:'],
        'connect-src': ["'self'", wsSelf],
        'font-src': ["'self'"],
        'object-src': ["'none'"],
        'form-action': ["'self'"],
        'frame-ancestors': ["'none'"],
      });
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', url);
      assert.equal(res.headers.get('x-frame-options'), 'DENY', url);
      assert.equal(res.headers.get('referrer-policy'), 'strict-origin-when-cross-origin', url);
      assert.equal(res.headers.get('strict-transport-security'), null, 'no HSTS over plain http');
      assert.equal(res.headers.get('x-powered-by'), null);
    }
  });

  test('the style hash follows a rebuilt index.html', async () => {
    const file = path.join(web.dir, 'index.html');
    const restyled = 'body { margin: 0; }';
    await writeFile(file, `<html><head><style>${restyled}</style><style>p{}</style></head></html>`);
    const later = new Date(Date.now() + 10_000);
    await utimes(file, later, later); // a new mtime even on coarse clocks
    const res = await fetch(theia.url + '/');
    await res.arrayBuffer();
    assert.deepEqual(parseCsp(res.headers.get('content-security-policy')).get('style-src'), [
      "'self'",
      sha256(restyled),
      sha256('p{}'),
    ]);
  });
});

describe('security headers behind https', () => {
  let theia: Theia;
  before(async () => (theia = await startTheia({ env: { PUBLIC_URL: 'https://live.example.org' } })));
  after(() => theia.close());

  test('HSTS, upgrade-insecure-requests and wss: to the public host', async () => {
    const res = await fetch(theia.url + '/api/rooms');
    await res.arrayBuffer();
    assert.equal(res.headers.get('strict-transport-security'), 'max-age=15552000');
    const csp = parseCsp(res.headers.get('content-security-policy'));
    assert.deepEqual(csp.get('connect-src'), ["'self'", 'wss://live.example.org']);
    assert.deepEqual(csp.get('upgrade-insecure-requests'), []);
  });
});

/** Installed before the page's scripts: collects CSP violation reports in `window.__violations`. */
const WATCH_VIOLATIONS = `
  window.__violations = [];
  document.addEventListener('securitypolicyviolation', (e) =>
    window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
`;

/**
 * Run in the page (the test project has no DOM types, hence a string): what the client and a DASH
 * player need, and two things the policy must refuse (eval, an injected inline script).
 */
const TRY_WHAT_THE_CLIENT_NEEDS = `(async () => {
  const app = document.querySelector('theia-app');
  const ws = await new Promise((resolve) => {
    const socket = new WebSocket(location.origin.replace(/^http/, 'ws') + '/ws');
    socket.onopen = () => { socket.close(); resolve('open'); };
    socket.onerror = () => resolve('error');
  });
  const worker = await new Promise((resolve) => {
    const w = new Worker(URL.createObjectURL(new Blob(['postMessage(42)'], { type: 'text/javascript' })));
    w.onmessage = (e) => { w.terminate(); resolve(e.data); };
    w.onerror = () => resolve('error');
  });
  const mse = await new Promise((resolve) => {
    const source = new MediaSource();
    const video = document.createElement('video');
    source.addEventListener('sourceopen', () => resolve('sourceopen'));
    video.addEventListener('error', () => resolve('error'));
    video.src = URL.createObjectURL(source);
  });
  let evalBlocked = false;
  try { (0, eval)('1'); } catch { evalBlocked = true; }
  const inline = document.createElement('script');
  inline.textContent = 'window.inlineRan = true';
  document.head.append(inline);
  const styles = [...document.querySelectorAll('style')];
  return {
    // a <style> that CSP blocks gets no stylesheet
    inlineStylesApplied: styles.length > 0 && styles.every((s) => s.sheet !== null),
    adopted: app.shadowRoot.adoptedStyleSheets.length,
    ws, worker, mse, evalBlocked,
    inlineRan: window.inlineRan === true,
  };
})()`;

describe('the web client under its CSP, in Chromium', () => {
  const skip = !existsSync(path.join(BUILT_WEB, 'index.html'))
    ? `${BUILT_WEB} is not built (npm run build:web)`
    : !existsSync(CHROMIUM)
      ? `no Chromium at ${CHROMIUM} (set CHROMIUM_PATH)`
      : false;
  let theia: Theia;
  let browser: Browser;
  before(async () => {
    if (skip) return;
    theia = await startTheia({ env: { WEB_DIR: BUILT_WEB } });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
  });
  after(async () => {
    await browser?.close();
    await theia?.close();
  });

  test(
    'renders with its styles, opens /ws, plays MSE blob URLs and runs blob workers; inline script and eval stay blocked',
    { skip },
    async () => {
      const page = await browser.newPage();
      try {
        await page.addInitScript(WATCH_VIOLATIONS);
        await page.goto(theia.url + '/');
        await page.waitForFunction(
          "(document.querySelector('theia-app')?.shadowRoot?.childElementCount ?? 0) > 0",
        );
        const { adopted, ...seen } = await page.evaluate<Record<string, unknown>>(TRY_WHAT_THE_CLIENT_NEEDS);
        assert.ok(Number(adopted) > 0, "Lit's styles are adopted stylesheets: no inline <style> needed");
        assert.deepEqual(seen, {
          inlineStylesApplied: true, // index.html's own <style>, allowed by its hash
          ws: 'open',
          worker: 42,
          mse: 'sourceopen',
          evalBlocked: true,
          inlineRan: false,
        });
        // violation events are dispatched as tasks: wait for the two the test provoked
        await page.waitForFunction('window.__violations.length >= 2');
        const violations = await page.evaluate<string[]>('window.__violations');
        assert.deepEqual(
          violations.sort(),
          ['script-src eval', 'script-src-elem inline'],
          'the app itself causes no violation; only the eval and the inline script the test tried',
        );
      } finally {
        await page.close();
      }
    },
  );
});

/**
 * Builds the browser client (web/) into dist/web, which the server serves with an SPA fallback.
 * `npm run build:web`; for development, `npx vite` serves web/ and proxies the API and the
 * signalling socket to a Theia server on :8080 (`npm run dev`).
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const server = 'http://127.0.0.1:8080';

export default defineConfig({
  root: 'web',
  build: {
    outDir: '../dist/web',
    emptyOutDir: true,
    target: 'es2022',
  },
  server: {
    proxy: {
      '/api': { target: server },
      '/ws': { target: server, ws: true },
    },
    // web/src imports the protocol types from ../src/signalling
    fs: { allow: [fileURLToPath(new URL('.', import.meta.url))] },
  },
});

/**
 * Entry point: `node dist/src/main.js` (or `npm run dev`). Reads the environment (README.md lists
 * the variables), starts the App and stops it cleanly on SIGTERM/SIGINT.
 */
import { App } from './App.js';
import { loadConfig } from './config.js';
import { createLogger } from './logger.js';

const log = createLogger('main');

process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection'));

try {
  const app = await App.create(loadConfig());
  const stop = (signal: string): void => {
    log.info({ signal }, 'stopping');
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
} catch (err) {
  log.fatal({ err }, err instanceof Error ? err.message : 'start-up failed');
  process.exitCode = 1;
}

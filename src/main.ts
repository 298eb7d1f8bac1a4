/**
 * Entry point: `node dist/src/main.js` (or `npm run dev`). Reads the environment (README.md lists
 * the variables), starts the App and stops it cleanly on SIGTERM/SIGINT.
 */
import { App } from './App.js';
import { loadConfig, type Config } from './config.js';
import { createLogger } from './logger.js';

const log = createLogger('main');

process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection'));

let config: Config | undefined;
try {
  config = loadConfig();
} catch (err) {
  // for people, not log collectors: one line per bad variable, no stack
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}

if (config) await start(config);

async function start(config: Config): Promise<void> {
  try {
    const app = await App.create(config);
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
}

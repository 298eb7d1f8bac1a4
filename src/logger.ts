/**
 * One pino root logger; each module takes a child with its own `module` name and context
 * (`roomId`, `liveId`, `userId`), e.g. `log.child({ roomId })`.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

/** The levels `LOG_LEVEL` accepts: pino's, most severe first, and `silent`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** True when `value` is one of LOG_LEVELS. */
export function isLogLevel(value: unknown): value is LogLevel {
  return (LOG_LEVELS as readonly unknown[]).includes(value);
}

/**
 * The level for `env`: `LOG_LEVEL` when valid, else `silent` under tests and `info` otherwise.
 * An invalid `LOG_LEVEL` is reported by loadConfig(), which stops start-up; the logger must not
 * throw first (pino throws for unknown levels while modules are still being imported).
 */
export function logLevelFrom(env: NodeJS.ProcessEnv): LogLevel {
  if (isLogLevel(env.LOG_LEVEL)) return env.LOG_LEVEL;
  return env.NODE_ENV === 'test' ? 'silent' : 'info';
}

const root = pino({ level: logLevelFrom(process.env), base: { app: 'theia' } });

/** A logger for one module: `createLogger('media')` → lines carry `module: "media"`. */
export function createLogger(module: string, bindings: Record<string, unknown> = {}): Logger {
  return root.child({ module, ...bindings });
}

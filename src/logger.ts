/**
 * One pino root logger; each module takes a child with its own `module` name and context
 * (`roomId`, `liveId`, `userId`), e.g. `log.child({ roomId })`.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

const root = pino({
  level: process.env.LOG_LEVEL ?? (process.env.NODE_ENV === 'test' ? 'silent' : 'info'),
  base: { app: 'theia' },
});

/** A logger for one module: `createLogger('media')` → lines carry `module: "media"`. */
export function createLogger(module: string, bindings: Record<string, unknown> = {}): Logger {
  return root.child({ module, ...bindings });
}

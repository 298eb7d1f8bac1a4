/**
 * Configuration from environment variables, validated with zod. Every variable has a default that
 * works on one laptop with KMS on the same machine; README.md has the table.
 */
import path from 'node:path';
import { z } from 'zod';

const iceServer = z.object({
  urls: z.union([z.string(), z.array(z.string())]),
  username: z.string().optional(),
  credential: z.string().optional(),
});

const positiveInt = z.coerce.number().int().positive();

const schema = z.object({
  HOST: z.string().default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  PUBLIC_URL: z.url().optional(),
  KMS_URI: z
    .string()
    .regex(/^wss?:\/\//, 'must be a ws:// or wss:// URL')
    .default('ws://127.0.0.1:8888/kurento'),
  KMS_CALL_TIMEOUT_MS: positiveInt.default(10_000),
  KMS_HEARTBEAT_MS: positiveInt.default(5_000),
  KMS_RECONNECT_MS: positiveInt.default(2_000),
  DATA_DIR: z.string().default('data'),
  WEB_DIR: z.string().optional(),
  ICE_SERVERS: z
    .string()
    .default('[]')
    .transform((s, ctx) => {
      try {
        return JSON.parse(s) as unknown;
      } catch {
        ctx.addIssue({
          code: 'custom',
          message: 'must be JSON, e.g. [{"urls":"stun:stun.example.org:3478"}]',
        });
        return z.NEVER;
      }
    })
    .pipe(z.array(iceServer)),
  INSTANCE_ID: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,40}$/, 'letters, digits, _ and - only')
    .default('theia'),
  TOKEN_TTL_HOURS: positiveInt.default(24 * 7),
  LOGIN_RATE_LIMIT: positiveInt.default(10),
  WS_HEARTBEAT_MS: positiveInt.default(15_000),
});

/** The typed configuration every module reads. Durations are in ms unless the name says otherwise. */
export interface Config {
  host: string;
  port: number;
  /** Base URL browsers use to reach this server, e.g. `https://live.example.org`. */
  publicUrl: string;
  kms: {
    uri: string;
    /** Every KMS call fails after this long (kurento-client 7.3.0 has no timeout of its own). */
    callTimeoutMs: number;
    /** How often the connection to KMS is probed. */
    heartbeatMs: number;
    /** Delay between attempts to reach a lost KMS again. */
    reconnectMs: number;
  };
  /** lowdb file lives here. */
  dataDir: string;
  /** Built web client (vite), relative to the working directory by default. */
  webDir: string;
  /** RTCIceServer list handed to browsers (STUN/TURN). */
  iceServers: Array<z.infer<typeof iceServer>>;
  /** Names this app's objects in KMS, so a restart can release what an earlier run left behind. */
  instanceId: string;
  tokenTtlMs: number;
  /** Failed-or-not login attempts allowed per client address per minute. */
  loginRateLimitPerMinute: number;
  wsHeartbeatMs: number;
}

/**
 * Builds the config from `env`.
 * @throws Error listing every invalid variable and why.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  return {
    host: e.HOST,
    port: e.PORT,
    publicUrl: e.PUBLIC_URL ?? `http://localhost:${e.PORT}`,
    kms: {
      uri: e.KMS_URI,
      callTimeoutMs: e.KMS_CALL_TIMEOUT_MS,
      heartbeatMs: e.KMS_HEARTBEAT_MS,
      reconnectMs: e.KMS_RECONNECT_MS,
    },
    dataDir: path.resolve(e.DATA_DIR),
    webDir: path.resolve(e.WEB_DIR ?? path.join('dist', 'web')),
    iceServers: e.ICE_SERVERS,
    instanceId: e.INSTANCE_ID,
    tokenTtlMs: e.TOKEN_TTL_HOURS * 3_600_000,
    loginRateLimitPerMinute: e.LOGIN_RATE_LIMIT,
    wsHeartbeatMs: e.WS_HEARTBEAT_MS,
  };
}

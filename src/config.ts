/**
 * Configuration from environment variables, validated with zod. Every variable has a default that
 * works on one laptop with KMS on the same machine; README.md has the table.
 */
import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import { LOG_LEVELS, type LogLevel } from './logger.js';

const iceServer = z.object({
  urls: z.union([z.string(), z.array(z.string())]),
  username: z.string().optional(),
  credential: z.string().optional(),
});

/** A decimal integer from `min` to `max`; the message says so. */
function integer(min: number, max = Number.MAX_SAFE_INTEGER, message?: string) {
  const text =
    message ??
    (max === Number.MAX_SAFE_INTEGER
      ? `must be an integer of at least ${min}`
      : `must be an integer from ${min} to ${max}`);
  return z
    .string()
    .regex(/^\d+$/, text)
    .transform(Number)
    .refine((n) => n >= min && n <= max, text);
}
const positiveInt = integer(1, Number.MAX_SAFE_INTEGER, 'must be a positive integer');

/** express's named subnets for `trust proxy` (proxy-addr). */
const NAMED_SUBNETS = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** An address, `address/prefix` or IPv4 `address/netmask`, as proxy-addr (express) accepts them. */
function isAddressOrSubnet(entry: string): boolean {
  if (NAMED_SUBNETS.has(entry)) return true;
  const [address = '', range, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (range === undefined) return true;
  if (/^\d+$/.test(range)) return Number(range) <= (family === 4 ? 32 : 128);
  return family === 4 && isIP(range) === 4;
}

/**
 * TRUST_PROXY, as express's `trust proxy` setting: `false` (default: the client is the socket's
 * peer), `true` (trust every proxy; the left-most X-Forwarded-For address is the client), a hop
 * count, or a comma-separated list of trusted proxy addresses/subnets.
 */
const trustProxy = z
  .string()
  .default('false')
  .transform((s, ctx): boolean | number | string[] => {
    const v = s.trim();
    if (v === 'false') return false;
    if (v === 'true') return true;
    if (/^\d+$/.test(v)) return Number(v);
    const entries = v.split(',').map((e) => e.trim());
    if (entries.length > 0 && entries.every(isAddressOrSubnet)) return entries;
    ctx.addIssue({
      code: 'custom',
      message:
        'must be true, false, a hop count, or a comma-separated list of proxy addresses or subnets (e.g. loopback or 10.0.0.0/8)',
    });
    return z.NEVER;
  });

/** ALLOWED_ORIGINS: comma-separated origins (`https://example.org`), normalised by the URL parser. */
const origins = z
  .string()
  .default('')
  .transform((s, ctx) => {
    const list: string[] = [];
    for (const entry of s.split(',').map((e) => e.trim())) {
      if (!entry) continue;
      let url: URL | undefined;
      try {
        url = new URL(entry);
      } catch {
        url = undefined;
      }
      const bare = url && url.pathname === '/' && !url.search && !url.hash && !url.username && !url.password;
      if (!url || !bare || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
        ctx.addIssue({
          code: 'custom',
          message: `"${entry}" is not an origin; write scheme://host[:port], e.g. https://example.org`,
        });
        continue;
      }
      list.push(url.origin);
    }
    return list;
  });

const schema = z.object({
  HOST: z.string().default('0.0.0.0'),
  PORT: integer(0, 65535).default(8080),
  PUBLIC_URL: z
    .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL, e.g. https://live.example.org' })
    .optional(),
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
  LOGIN_FREE_FAILURES: integer(0).default(5),
  LOGIN_DELAY_MS: positiveInt.default(1_000),
  LOGIN_DELAY_MAX_MS: positiveInt.default(5 * 60_000),
  TRUST_PROXY: trustProxy,
  ALLOWED_ORIGINS: origins,
  WS_HEARTBEAT_MS: positiveInt.default(15_000),
  HOST_GRACE_MS: integer(0, 600_000).default(20_000),
  PUBLISH_VIDEO_CODEC: z.enum(['h264', 'vp8', 'any'], { error: 'must be h264, vp8 or any' }).default('h264'),
  MAX_GUESTS: integer(1, 3).default(1),
  MIX_WIDTH: integer(160, 3840).default(1280),
  MIX_HEIGHT: integer(120, 2160).default(720),
  MIX_FPS: integer(5, 60).default(30),
  DASH_EGRESS: z.enum(['on', 'off'], { error: 'must be on or off' }).default('on'),
  FFMPEG_PATH: z.string().default('ffmpeg'),
  EGRESS_RTP_PORTS: z
    .string()
    .default('41000-41999')
    .transform((s, ctx) => {
      const m = /^(\d+)-(\d+)$/.exec(s.trim());
      const [min, max] = [Number(m?.[1]), Number(m?.[2])];
      if (!m || min < 1024 || max > 65535 || max < min + 3) {
        ctx.addIssue({
          code: 'custom',
          message: 'must be a UDP port range MIN-MAX within 1024-65535, e.g. 41000-41999',
        });
        return z.NEVER;
      }
      return { min, max };
    }),
  EGRESS_RTP_ADDRESS: z
    .string()
    .regex(/^[\w.:-]+$/, 'must be a host address, e.g. 127.0.0.1')
    .default('127.0.0.1'),
  MAX_WEBRTC_VIEWERS: integer(0).default(0),
  RTMP_DESTINATIONS: z
    .string()
    .default('')
    .transform((s, ctx) => {
      const urls = s
        .split(',')
        .map((u) => u.trim())
        .filter((u) => u !== '');
      const valid = urls.every((u) => /^rtmps?:\/\/[^/\s]+\/[^/\s]+\/\S+$/.test(u));
      if (!valid || urls.length > 3) {
        ctx.addIssue({
          code: 'custom',
          message:
            'must be at most 3 comma-separated rtmp:// or rtmps:// URLs with an app and a stream key, e.g. rtmp://srs.local/live/{roomId}',
        });
        return z.NEVER;
      }
      return urls;
    }),
  MEDIA_PUBLIC_URL: z
    .url({
      protocol: /^https?$/,
      error: 'must be an http:// or https:// URL KMS can reach, e.g. http://10.0.0.5:8080',
    })
    .optional(),
  RTMP_INGEST: z.enum(['on', 'off'], { error: 'must be on or off' }).default('on'),
  RTMP_PORT: integer(0, 65535).default(1935),
  INGEST_KMS_RTP_ADDRESS: z
    .string()
    .regex(/^[\w.:-]+$/, 'must be a host address, e.g. 127.0.0.1')
    .optional(),
  INGEST_IDLE_TIMEOUT_MS: positiveInt.default(120_000),
  RTP_HANDSHAKE_PORT: integer(0, 65535).optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).optional(),
  NODE_ENV: z.string().optional(),
});

/** Variables whose value is never echoed in an error message (ICE_SERVERS may hold TURN credentials). */
const SECRET_VARIABLES = new Set(['ICE_SERVERS', 'RTMP_DESTINATIONS']);

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
  /** Per account name: failed logins in a row without delay, then the first delay, doubling per failure, up to the cap. */
  loginDelay: { freeFailures: number; baseMs: number; maxMs: number };
  /**
   * express's `trust proxy` (TRUST_PROXY): false (default), true, a hop count, or trusted proxy
   * addresses/subnets. Decides which X-Forwarded-For address counts as the client (rate limits).
   */
  trustProxy: boolean | number | string[];
  /**
   * Extra origins (`https://example.org`) allowed to open `/ws`, besides the app's own; requests
   * without an Origin header (non-browser clients) are allowed too.
   */
  allowedOrigins: string[];
  wsHeartbeatMs: number;
  /**
   * How long a live waits for its host's connection after it dropped (HOST_GRACE_MS, ms): a host
   * back within it goes on under the same LiveId; 0 ends the live at once.
   */
  hostGraceMs: number;
  /**
   * The video codec browsers publish with when they can (PUBLISH_VIDEO_CODEC): `h264` lets KMS
   * hand the program to the H.264 egress (DASH, RTMP) without transcoding; `any` leaves the
   * browser's own preference (VP8 in Chromium and Firefox).
   */
  publishVideoCodec: 'h264' | 'vp8' | 'any';
  /** Guests on a stage besides the host (MAX_GUESTS, 1–3). */
  maxGuests: number;
  /** Caps of the co-hosting grid mix: px and frames per second (MIX_WIDTH, MIX_HEIGHT, MIX_FPS). */
  mix: { maxWidth: number; maxHeight: number; framerate: number };
  /**
   * Base URL at which KMS fetches what the app serves it (the face-overlay image), MEDIA_PUBLIC_URL;
   * undefined: `http://127.0.0.1:<port the app listens on>` (KMS on the same host).
   */
  mediaPublicUrl: string | undefined;
  /**
   * DASH/HLS egress (DASH_EGRESS): ffmpeg binary (FFMPEG_PATH), the UDP ports KMS sends the
   * program's RTP to (EGRESS_RTP_PORTS; not KMS's own range) and their address as KMS sees it
   * (EGRESS_RTP_ADDRESS).
   */
  egress: { dash: boolean; ffmpegPath: string; rtpPorts: { min: number; max: number }; rtpAddress: string };
  /**
   * WebRTC viewers of the program per room (MAX_WEBRTC_VIEWERS); 0: no limit. Beyond it
   * `receiveVideo` fails with ErrorCode.WebRtcViewerLimit and viewers watch DASH.
   */
  maxWebRtcViewers: number;
  /**
   * RTMP URLs (stream key included) every live is pushed to besides its room's own
   * (RTMP_DESTINATIONS, at most 3); `{roomId}` in a URL is replaced by the room's id.
   */
  rtmpDestinations: string[];
  /**
   * Lives fed from outside a browser (doc/ingest.md): the embedded RTMP server for OBS (RTMP_INGEST,
   * RTMP_PORT; 0 picks a free port), the address the RTMP bridge's ffmpeg sends RTP to
   * (INGEST_KMS_RTP_ADDRESS; undefined: the `c=` address of KMS's answer), how long a stream may
   * send nothing before its live ends (INGEST_IDLE_TIMEOUT_MS), and the UDP port of the RTP
   * publish handshake (RTP_HANDSHAKE_PORT; undefined: off).
   */
  ingest: {
    rtmp: boolean;
    rtmpPort: number;
    kmsRtpAddress: string | undefined;
    idleTimeoutMs: number;
    rtpHandshakePort: number | undefined;
  };
  /** pino level; `src/logger.ts` reads the same variable. */
  logLevel: LogLevel;
}

/** ` (got "…")` for a variable's value; long values are shortened, secret ones never shown. */
function got(name: string, value: string | undefined): string {
  if (value === undefined || SECRET_VARIABLES.has(name)) return '';
  const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
  return ` (got ${JSON.stringify(shown)})`;
}

/**
 * Builds the config from `env`. Empty variables count as unset.
 * @throws Error whose message is `Invalid configuration:` and then one line per problem,
 *   `  NAME: what it must be (got "value")`.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const set = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(set);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const name = String(i.path[0] ?? '');
      return `  ${i.path.join('.')}: ${i.message}${got(name, set[name])}`;
    });
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
    loginDelay: {
      freeFailures: e.LOGIN_FREE_FAILURES,
      baseMs: e.LOGIN_DELAY_MS,
      maxMs: e.LOGIN_DELAY_MAX_MS,
    },
    trustProxy: e.TRUST_PROXY,
    allowedOrigins: e.ALLOWED_ORIGINS,
    wsHeartbeatMs: e.WS_HEARTBEAT_MS,
    hostGraceMs: e.HOST_GRACE_MS,
    publishVideoCodec: e.PUBLISH_VIDEO_CODEC,
    maxGuests: e.MAX_GUESTS,
    mix: { maxWidth: e.MIX_WIDTH, maxHeight: e.MIX_HEIGHT, framerate: e.MIX_FPS },
    egress: {
      dash: e.DASH_EGRESS === 'on',
      ffmpegPath: e.FFMPEG_PATH,
      rtpPorts: e.EGRESS_RTP_PORTS,
      rtpAddress: e.EGRESS_RTP_ADDRESS,
    },
    maxWebRtcViewers: e.MAX_WEBRTC_VIEWERS,
    rtmpDestinations: e.RTMP_DESTINATIONS,
    ingest: {
      rtmp: e.RTMP_INGEST === 'on',
      rtmpPort: e.RTMP_PORT,
      kmsRtpAddress: e.INGEST_KMS_RTP_ADDRESS,
      idleTimeoutMs: e.INGEST_IDLE_TIMEOUT_MS,
      rtpHandshakePort: e.RTP_HANDSHAKE_PORT,
    },
    mediaPublicUrl: e.MEDIA_PUBLIC_URL?.replace(/\/+$/, ''),
    logLevel: e.LOG_LEVEL ?? (e.NODE_ENV === 'test' ? 'silent' : 'info'),
  };
}

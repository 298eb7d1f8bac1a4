/**
 * The RTMP server OBS publishes to, embedded in the app: `rtmp://<host>:<RTMP_PORT>/live/<RtmpToken>`.
 *
 * node-media-server 4 speaks RTMP (its `RtmpSession`); this class owns the TCP listener (so a busy
 * port is an error of `create()`, not node-media-server's `process.exit`), and decides in its
 * synchronous `prePublish` hook: an unknown or revoked stream key, an app other than `live`, or a
 * second publish while the user's first one runs is refused by destroying the session's socket.
 * An accepted publish exchanges the token for a Live (`RoomManager.startIngest(user, 'rtmp')`, the
 * seed's "RtmpToken 换取 LiveId 和 LiveCode") and starts the RtmpBridge (ffmpeg → KMS RtpEndpoint),
 * which plays the stream back from this server on 127.0.0.1 (playing from elsewhere is refused).
 *
 * The live ends (bridge stopped, `stopIngest`, OBS's connection closed) when OBS disconnects, when
 * nothing arrives from OBS for `idleTimeoutMs` (the seed's "n 分钟没有新的数据"), when the bridge
 * gives up, when the live is stopped elsewhere (a browser, REST), or on `cut()` (a regenerated key).
 *
 * node-media-server keeps its state in module globals (`Context`): one RtmpIngest per process.
 */
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { createServer, type Server, type Socket, type AddressInfo } from 'node:net';
import { InvalidStateError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { IngestLive } from '../rooms/IngestLive.js';
import type { RoomManager } from '../rooms/RoomManager.js';
import type { Store, UserRecord } from '../store/Store.js';
import { RtmpBridge } from './RtmpBridge.js';

const require = createRequire(import.meta.url);

/** The parts of node-media-server's RtmpSession (src/session/rtmp_session.js, v4.4) used here. */
interface NmsSession {
  readonly id: string;
  /** `address:port` of the peer */
  readonly ip: string;
  readonly streamApp: string;
  readonly streamName: string;
  /** bytes received from the peer so far */
  readonly inBytes: number;
  readonly socket: Socket;
  run(): void;
}
interface NmsContext {
  config: Record<string, unknown>;
  sessions: Map<string, NmsSession>;
  eventEmitter: EventEmitter;
}
const Context = require('node-media-server/src/core/context.js') as NmsContext;
const RtmpSession = require('node-media-server/src/session/rtmp_session.js') as new (
  socket: Socket,
) => NmsSession;
const nmsLogger = require('node-media-server/src/core/logger.js') as {
  log: (message: string, level?: string) => void;
};

/** Why an OBS stream ended. */
export type RtmpEndReason = 'disconnected' | 'idle' | 'bridge-failed' | 'live-ended' | 'cut' | 'shutdown';

/** One accepted OBS publish. */
export interface RtmpPublish {
  readonly user: UserRecord;
  readonly sessionId: string;
  /** Set once the live started. */
  ingest: IngestLive | undefined;
  bridge: RtmpBridge | undefined;
  /** Bytes received from OBS so far. */
  readonly inBytes: number;
}

export interface RtmpIngestEvents {
  /** A publish was refused (`reason` for logs and tests). */
  rejected: [reason: 'unknown-key' | 'busy' | 'start-failed', streamName: string];
  /** The live of an accepted publish started and its bridge runs. */
  live: [publish: RtmpPublish];
  /** A publish ended; its live and bridge are gone. */
  ended: [publish: RtmpPublish, reason: RtmpEndReason];
}

export interface RtmpIngestOptions {
  /** Address and port to listen on (0: any free port). */
  host: string;
  port: number;
  store: Store;
  rooms: RoomManager;
  ffmpegPath: string;
  kmsRtpAddress: string | undefined;
  /** A publish that sends nothing for this long (ms) ends. */
  idleTimeoutMs: number;
  logger: Logger;
}

class Publish implements RtmpPublish {
  ingest: IngestLive | undefined;
  bridge: RtmpBridge | undefined;
  starting: Promise<void> | undefined;
  ending: Promise<void> | undefined;
  idleTimer: NodeJS.Timeout | undefined;
  lastBytes = 0;
  lastDataAt = Date.now();

  constructor(
    readonly user: UserRecord,
    readonly session: NmsSession,
  ) {}

  get sessionId(): string {
    return this.session.id;
  }

  get inBytes(): number {
    return this.session.inBytes;
  }
}

export class RtmpIngest extends EventEmitter<RtmpIngestEvents> {
  readonly #options: RtmpIngestOptions;
  readonly #server: Server;
  readonly #log: Logger;
  readonly #sockets = new Set<Socket>();
  /** this server's sessions (node-media-server's Context is shared by the process) */
  readonly #sessions = new Map<string, NmsSession>();
  readonly #bySession = new Map<string, Publish>();
  readonly #byUser = new Map<string, Publish>();
  #closing: Promise<void> | undefined;

  private constructor(options: RtmpIngestOptions, server: Server) {
    super();
    this.#options = options;
    this.#server = server;
    this.#log = options.logger;
    Context.eventEmitter.on('prePublish', this.#onPrePublish);
    Context.eventEmitter.on('prePlay', this.#onPrePlay);
    server.on('connection', this.#onConnection);
  }

  /**
   * Listens on `host:port`. @throws the listen error (EADDRINUSE, EACCES).
   */
  static async create(options: RtmpIngestOptions): Promise<RtmpIngest> {
    // node-media-server logs with console.log: into pino instead
    const nmsLog = options.logger.child({ nms: true });
    nmsLogger.log = (message: string, level = 'info') => {
      if (level === 'error' || level === 'warn') nmsLog.info(message);
      else nmsLog.debug(message);
    };
    Context.config = { ...Context.config, rtmp: { port: options.port } };
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const ingest = new RtmpIngest(options, server);
    options.logger.info({ port: ingest.port }, 'RTMP ingest listening');
    return ingest;
  }

  /** The TCP port it listens on. */
  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** The publish of user `userId` that runs now, if any. */
  publishOf(userId: string): RtmpPublish | undefined {
    return this.#byUser.get(userId);
  }

  /** Ends the publish of user `userId` (their stream key was regenerated). Resolves when it ended. */
  async cut(userId: string): Promise<void> {
    const publish = this.#byUser.get(userId);
    if (publish) await this.#end(publish, 'cut');
  }

  /** Ends every publish (their lives too), stops listening. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    Context.eventEmitter.off('prePublish', this.#onPrePublish);
    Context.eventEmitter.off('prePlay', this.#onPrePlay);
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    await Promise.all([...this.#bySession.values()].map((p) => this.#end(p, 'shutdown')));
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }

  #onConnection = (socket: Socket): void => {
    if (this.#closing) {
      socket.destroy();
      return;
    }
    this.#sockets.add(socket);
    const session = new RtmpSession(socket);
    this.#sessions.set(session.id, session);
    socket.on('close', () => {
      this.#sockets.delete(socket);
      this.#sessions.delete(session.id);
      const publish = this.#bySession.get(session.id);
      if (publish) void this.#end(publish, 'disconnected');
    });
    session.run();
    Context.sessions.set(session.id, session);
  };

  /** Only the bridge (on this host) plays streams back: a stream key is no viewing ticket. */
  #onPrePlay = (session: NmsSession): void => {
    if (!this.#sessions.has(session.id)) return;
    const address = session.ip.slice(0, session.ip.lastIndexOf(':'));
    if (address !== '127.0.0.1' && address !== '::1' && address !== '::ffff:127.0.0.1') {
      this.#log.warn({ ip: session.ip }, 'RTMP play from elsewhere refused');
      session.socket.destroy();
    }
  };

  #onPrePublish = (session: NmsSession): void => {
    if (!this.#sessions.has(session.id)) return;
    const user =
      session.streamApp === 'live' ? this.#options.store.userByRtmpToken(session.streamName) : undefined;
    if (!user) {
      this.#log.info({ ip: session.ip }, 'RTMP publish with an unknown stream key refused');
      this.#reject(session, 'unknown-key');
      return;
    }
    if (this.#byUser.has(user.id)) {
      this.#log.info({ userId: user.id, ip: session.ip }, 'second RTMP publish refused');
      this.#reject(session, 'busy');
      return;
    }
    const publish = new Publish(user, session);
    this.#byUser.set(user.id, publish);
    this.#bySession.set(session.id, publish);
    publish.starting = this.#start(publish).catch((err: unknown) => {
      this.#log.warn({ err, userId: user.id }, 'RTMP publish could not go live');
      if (!publish.ending) this.emit('rejected', 'start-failed', session.streamName);
      void this.#end(publish, 'bridge-failed');
    });
  };

  #reject(session: NmsSession, reason: 'unknown-key' | 'busy'): void {
    // node-media-server goes on with the publish after its hook: the socket's end stops it
    session.socket.destroy();
    this.emit('rejected', reason, session.streamName);
  }

  async #start(publish: Publish): Promise<void> {
    const { rooms, idleTimeoutMs } = this.#options;
    const ingest = await rooms.startIngest(publish.user.id, 'rtmp');
    publish.ingest = ingest;
    if (publish.ending) return; // #end stops it
    ingest.once('ended', () => void this.#end(publish, 'live-ended'));
    const log = this.#log.child({ liveId: ingest.liveId, userId: publish.user.id });
    const bridge = await RtmpBridge.create({
      ingest,
      rtmpUrl: `rtmp://127.0.0.1:${this.port}/live/${publish.session.streamName}`,
      ffmpegPath: this.#options.ffmpegPath,
      kmsRtpAddress: this.#options.kmsRtpAddress,
      secrets: [publish.session.streamName],
      logger: log,
    });
    if (publish.ending) {
      bridge.close();
      await bridge.whenStopped();
      return;
    }
    publish.bridge = bridge;
    bridge.once('close', (error) => {
      if (error) void this.#end(publish, 'bridge-failed');
    });
    // no event for "nothing arrived": sample the byte count a few times per timeout
    publish.lastBytes = publish.inBytes;
    publish.lastDataAt = Date.now();
    publish.idleTimer = setInterval(
      () => {
        if (publish.inBytes !== publish.lastBytes) {
          publish.lastBytes = publish.inBytes;
          publish.lastDataAt = Date.now();
        } else if (Date.now() - publish.lastDataAt >= idleTimeoutMs) {
          log.info({ idleTimeoutMs }, 'nothing from OBS, ending the live');
          void this.#end(publish, 'idle');
        }
      },
      Math.max(100, Math.min(5_000, idleTimeoutMs / 4)),
    );
    log.info('live from OBS');
    this.emit('live', publish);
  }

  /** Bridge, OBS's connection, live: all gone when it resolves. Never rejects. */
  #end(publish: Publish, reason: RtmpEndReason): Promise<void> {
    publish.ending ??= (async () => {
      if (publish.idleTimer) clearInterval(publish.idleTimer);
      publish.bridge?.close();
      publish.session.socket.destroy();
      try {
        // a start still running finishes first (it sees `ending` and stops what it made)
        await publish.starting;
        await publish.bridge?.whenStopped();
        if (publish.ingest) await this.#options.rooms.stopIngest(publish.ingest);
      } catch (err) {
        if (!(err instanceof InvalidStateError)) this.#log.error({ err }, 'ending an RTMP live failed');
      }
      this.#bySession.delete(publish.sessionId);
      if (this.#byUser.get(publish.user.id) === publish) this.#byUser.delete(publish.user.id);
      this.#log.info(
        { userId: publish.user.id, liveId: publish.ingest?.liveId, reason },
        'RTMP publish ended',
      );
      this.emit('ended', publish, reason);
    })();
    return publish.ending;
  }
}

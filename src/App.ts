/**
 * The whole server, wired: store, auth, KMS connection, rooms, REST + static web, signalling.
 * `App.create()` starts it; `close()` ends every live (releasing its KMS objects), closes the
 * sockets and the KMS connection, in that order (doc/closures.md).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AuthService } from './auth/AuthService.js';
import type { Config } from './config.js';
import { createHttpApp } from './http/createHttpApp.js';
import { createLogger, type Logger } from './logger.js';
import { DashEgressService } from './egress/DashEgressService.js';
import { RtmpIngest } from './ingest/RtmpIngest.js';
import { RtpPublishers } from './ingest/RtpPublishers.js';
import { KmsConnection } from './media/KmsConnection.js';
import { FACE_OVERLAY_PATH, FACE_OVERLAY_PLACEMENT } from './media/faceOverlay.js';
import { KurentoMediaService } from './media/KurentoMediaService.js';
import { RoomManager, type RoomManagerOptions } from './rooms/RoomManager.js';
import { SignallingServer, type SignallingOptions } from './signalling/SignallingServer.js';
import { Store } from './store/Store.js';

export class App {
  readonly config: Config;
  readonly store: Store;
  readonly kms: KmsConnection;
  readonly rooms: RoomManager;
  /** The RTMP server for OBS (RTMP_INGEST=on), src/ingest/RtmpIngest.ts. */
  readonly rtmpIngest: RtmpIngest | undefined;
  readonly #http: Server;
  readonly #signalling: SignallingServer;
  readonly #egress: DashEgressService | undefined;
  readonly #log: Logger;
  #closing: Promise<void> | undefined;

  private constructor(parts: {
    config: Config;
    store: Store;
    kms: KmsConnection;
    rooms: RoomManager;
    http: Server;
    signalling: SignallingServer;
    egress: DashEgressService | undefined;
    rtmpIngest: RtmpIngest | undefined;
    log: Logger;
  }) {
    this.config = parts.config;
    this.store = parts.store;
    this.kms = parts.kms;
    this.rooms = parts.rooms;
    this.#http = parts.http;
    this.#signalling = parts.signalling;
    this.#egress = parts.egress;
    this.rtmpIngest = parts.rtmpIngest;
    this.#log = parts.log;
  }

  /**
   * Opens the store, connects to KMS (in the background if it is down), and listens.
   * @throws StoreCorruptError when the data file cannot be read; the listen error (e.g. EADDRINUSE).
   */
  static async create(
    config: Config,
    options: { rooms?: RoomManagerOptions; signalling?: Pick<SignallingOptions, 'maxBufferedBytes'> } = {},
  ): Promise<App> {
    const log = createLogger('app');
    const store = await Store.open(config.dataDir);
    const kms = await KmsConnection.create({
      uri: config.kms.uri,
      callTimeoutMs: config.kms.callTimeoutMs,
      heartbeatMs: config.kms.heartbeatMs,
      reconnectMs: config.kms.reconnectMs,
      instanceId: config.instanceId,
      log: createLogger('media'),
    });
    // the handler comes once the rooms exist; the server object is needed first for its port
    const http = createServer();
    /** Where KMS fetches what the app serves it: MEDIA_PUBLIC_URL, or this app on KMS's host. */
    const mediaBaseUrl = (): string =>
      config.mediaPublicUrl ??
      `http://127.0.0.1:${(http.address() as AddressInfo | null)?.port ?? config.port}`;
    const media = new KurentoMediaService(
      kms,
      {
        mix: config.mix,
        faceOverlay: () => ({ uri: mediaBaseUrl() + FACE_OVERLAY_PATH, ...FACE_OVERLAY_PLACEMENT }),
      },
      createLogger('media'),
    );
    const egress = config.egress.dash
      ? await DashEgressService.create({
          dataDir: config.dataDir,
          ffmpegPath: config.egress.ffmpegPath,
          portRange: config.egress.rtpPorts,
          rtpAddress: config.egress.rtpAddress,
          serverDestinations: config.rtmpDestinations,
          maxWebRtcViewers: config.maxWebRtcViewers,
          // players fetch it: the public address, or this app's own when it picked its port
          utcTimingUrl: () =>
            new URL(
              '/api/time',
              config.port === 0
                ? `http://127.0.0.1:${(http.address() as AddressInfo).port}`
                : config.publicUrl,
            ).href,
          log: createLogger('egress'),
        })
      : undefined;
    const auth = new AuthService(store, { tokenTtlMs: config.tokenTtlMs });
    const rooms = new RoomManager(store, media, createLogger('rooms'), {
      maxGuests: config.maxGuests,
      hostGraceMs: config.hostGraceMs,
      egress,
      ...options.rooms,
    });
    // the RTMP server starts once the app listens; routes that cut its streams look it up then
    let rtmpIngest: RtmpIngest | undefined;
    const rtp = new RtpPublishers(rooms);
    http.on(
      'request',
      createHttpApp({
        config,
        store,
        auth,
        rooms,
        rtp,
        rtmpIngest: () => rtmpIngest,
        log: createLogger('http'),
      }),
    );
    const signalling = new SignallingServer(http, auth, rooms, createLogger('signalling'), {
      heartbeatMs: config.wsHeartbeatMs,
      allowedOrigins: config.allowedOrigins,
      publicUrl: config.publicUrl,
      ...options.signalling,
    });
    try {
      await new Promise<void>((resolve, reject) => {
        http.once('error', reject);
        http.listen(config.port, config.host, () => {
          http.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      kms.close();
      await signalling.close();
      throw err;
    }
    try {
      rtmpIngest = config.ingest.rtmp
        ? await RtmpIngest.create({
            host: config.host,
            port: config.ingest.rtmpPort,
            store,
            rooms,
            ffmpegPath: config.egress.ffmpegPath,
            kmsRtpAddress: config.ingest.kmsRtpAddress,
            idleTimeoutMs: config.ingest.idleTimeoutMs,
            logger: createLogger('ingest'),
          })
        : undefined;
    } catch (err) {
      kms.close();
      await signalling.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      throw err;
    }
    const app = new App({ config, store, kms, rooms, http, signalling, egress, rtmpIngest, log });
    log.info({ url: app.url, kms: config.kms.uri, kmsState: kms.state }, 'Theia listening');
    return app;
  }

  /** http://<host>:<port> the server listens on (127.0.0.1 when bound to all addresses). */
  get url(): string {
    const { port } = this.#http.address() as AddressInfo;
    const host = this.config.host === '0.0.0.0' || this.config.host === '::' ? '127.0.0.1' : this.config.host;
    return `http://${host}:${port}`;
  }

  /** Ends lives, closes sockets and the KMS connection. Idempotent; resolves when done. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#log.info('shutting down');
    await this.rtmpIngest?.close(); // OBS streams and their bridges; their lives end below anyway
    await this.rooms.close('shutdown');
    await this.#egress?.drain(); // every ffmpeg gone, files removed
    await this.#signalling.close();
    this.#http.closeAllConnections();
    await new Promise<void>((resolve) => this.#http.close(() => resolve()));
    await this.kms.drain();
    this.kms.close();
  }
}

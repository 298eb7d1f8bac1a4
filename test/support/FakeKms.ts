/**
 * A fake Kurento Media Server 7.3 for tests: a real WebSocket server (`ws://HOST:PORT/kurento`)
 * speaking KMS's JSON-RPC 2.0 protocol, so that the unmodified `kurento-client` 7.3.0 talks to it
 * and `/work/shared/kms-protocol/conformance.mjs` scores 115/115 against it on the first recording
 * and 323/323 on `real-kms-mixers.jsonl` (as a real KMS does), with and without media.
 *
 * Where the protocol facts come from:
 * - `/work/shared/kms-protocol/real-kms-scenario.jsonl` — 305 frames between kurento-client 7.3.0 and
 *   a real KMS 7.3.1 (result/error shapes, ids, events, SDPs); see `fakeKms/MediaServer.ts`,
 *   `fakeKms/MediaGraph.ts` and `fakeKms/sdpNegotiation.ts` for the details each one mirrors.
 * - The kmd interface definitions (`fakeKms/KmdModel.ts`) for classes, operations, params, events.
 * - `/work/shared/kms-protocol/real-kms-mixers.jsonl` — a second recording (KMS 7.3.0): hubs and
 *   HubPorts, switching and the unlinking stale disconnect (`fakeKms/MediaGraph.ts`), AlphaBlending
 *   and FaceOverlayFilter errors, jsoncpp's parameter conversions (`fakeKms/KmdModel.ts`),
 *   requestKeyframe, getUsedCpu(0) (`fakeKms/MediaServer.ts`).
 * - A crash no recording shows (README, scenario 2): `AlphaBlending.setMaster` with the id of an
 *   object that is not one of its HubPorts kills a real KMS. The fake answers error
 *   {@link WOULD_CRASH_CODE} and lists the call in {@link FakeKms.crashingCalls}.
 * - KMS's transport (`ServerMethods::process`): a connection remembers the `sessionId` of the last
 *   result it carried and injects it into later requests that lack one; events of a session go to
 *   the connection that last used it; responses are cached per (sessionId, request id) for 20 s so a
 *   retried request gets the same answer; the WebSocket path is `/kurento`.
 * - JSON is written with sorted keys, like jsoncpp in KMS (`{"id":…,"jsonrpc":"2.0","result":…}`).
 *
 * Media — what the fake does and does not do:
 * - By default no media flows: SDP answers/offers are KMS-shaped text and ICE / media-flow events
 *   are simulated (`simulateMedia`). Unit, integration and conformance suites run this way.
 * - `FakeKms.start({ media: true })` carries real media. A WebRtcEndpoint is backed by a werift
 *   `RTCPeerConnection` (`fakeKms/WebRtcPeer.ts`): its answer is werift's real SDP (ICE
 *   credentials, fingerprint; no candidates, like KMS), `gatherCandidates` emits werift's real
 *   host candidates on the ICE address (127.0.0.1) then IceGatheringDone, and ICE/DTLS/SRTP
 *   complete with Chromium and Firefox. An RtpEndpoint binds real UDP ports (RTP + RTCP) for the
 *   SDP it advertises (`fakeKms/RtpPeer.ts`) and counts packets per SSRC ({@link FakeKms.rtpStats}).
 *   ConnectionStateChanged, MediaStateChanged, IceComponentStateChanged, NewCandidatePairSelected
 *   and MediaFlowIn/Out follow real werift states and real RTP (NOT_FLOWING 3 s after the last
 *   packet).
 * - It FORWARDS: `connect(source, sink)` sends the source's received RTP to the sink as is
 *   (`fakeKms/MediaRouter.ts`), rewriting only SSRC, payload type, sequence numbers/timestamps and
 *   header extensions per leg; keyframe requests (PLI/FIR) of a sink go to its source, and each
 *   new link (a late viewer, a switch to another source) asks the source for a keyframe at once.
 *   Filters and PassThrough let media through unchanged.
 * - Hubs forward, they do not mix: every HubPort of a hub puts out the media of ONE input, its feed
 *   (AlphaBlending: the input of its master port; Composite: the first input connected), moving to
 *   the next input when that one goes (`fakeKms/HubRelay.ts`, {@link FakeKms.hubFeed}).
 * - It does NOT mix (no grid, no picture-in-picture, no mixed audio, no mix frame size), filter
 *   (FaceOverlayFilter draws nothing and fetches no image), transcode (a sink that did not negotiate the source's codec gets nothing:
 *   `rtpStats().dropped` counts it; choose codecs with `media: { videoCodecs }`), record, play
 *   URIs, simulcast, or answer `getStats` with real numbers. Opus, VP8 and H.264 (packetization
 *   mode 1) only. Every werift peer and socket is closed on release and {@link FakeKms.stop}.
 *
 * Set `FAKE_KMS_DEBUG=1` to print every frame to stderr.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';

import { WebSocket, WebSocketServer, type RawData } from 'ws';

import { JSONRPC_ERROR_CODES, KmsError, type JsonRpcErrorObject } from './fakeKms/KmsError.js';
import type { EventNotification } from './fakeKms/MediaGraph.js';
import { type CrashingCall, MediaServer, SERVER_MANAGER_ID } from './fakeKms/MediaServer.js';
import type { RtpStats } from './fakeKms/mediaPort.js';
import { randomFingerprint } from './fakeKms/sdpNegotiation.js';
import type { VideoCodecName } from './fakeKms/WebRtcPeer.js';

/** Options of {@link FakeKms.start}. */
export interface FakeKmsOptions {
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Listen address; default `127.0.0.1`. */
  host?: string;
  /** Address put in RtpEndpoint SDP `o=`/`c=` lines (a real KMS advertises its first non-loopback interface); default `127.0.0.1`. */
  rtpAddress?: string;
  /** Address in the ICE candidates of WebRtcEndpoints; default `127.0.0.1` (as recorded). */
  iceAddress?: string;
  /**
   * Simulate ICE connectivity and media flow (IceComponentStateChanged, NewCandidatePairSelected,
   * ConnectionStateChanged, MediaStateChanged, MediaFlowIn/OutStateChanged); default true.
   * Endpoints that carry real media ({@link media}) report real states instead.
   */
  simulateMedia?: boolean;
  /**
   * Carry real media (see the file header): werift peers behind WebRtcEndpoints, UDP sockets
   * behind RtpEndpoints, RTP forwarded along connections. Default false (SDP and simulated events
   * only: what the unit, integration and conformance suites expect). `videoCodecs` lists the video
   * codecs the endpoints accept, preferred first (default `['VP8', 'H264']`); nothing is
   * transcoded, so a source's codec must be one its sinks negotiated.
   */
  media?: boolean | { videoCodecs?: VideoCodecName[] };
}

/** Selects requests for {@link FakeKms.calls}, {@link FakeKms.failNext} and {@link FakeKms.delay}. */
export interface RequestMatch {
  /** JSON-RPC method: create, invoke, subscribe, release, ping, describe, … */
  method?: string;
  /** `params.operation` of an invoke. */
  operation?: string;
  /** `params.type` of a create (class) or subscribe (event type). */
  type?: string;
}

/** A recorded request. */
export interface RecordedCall {
  method: string;
  params: unknown;
}

export type { CrashingCall } from './fakeKms/MediaServer.js';
export { WOULD_CRASH_CODE, WOULD_CRASH_TYPE } from './fakeKms/KmsError.js';

/** A connection as {@link FakeKms.connections} lists it. */
export interface FakeConnection {
  source: string;
  sink: string;
  mediaType?: string;
  /**
   * Present (true) when `oldSource.disconnect(sink)` after a switch unlinked the sink: the source
   * still lists this connection but nothing crosses it, and the sink never gets media again
   * (`/work/shared/kms-protocol/README.md`, scenario 2). A correct app never makes one.
   */
  unlinked?: true;
}

interface Connection {
  ws: WebSocket;
  sessionId?: string;
  /** Frames held back while the server hangs. */
  outbox: string[];
}

interface JsonRpcRequest {
  jsonrpc?: unknown;
  id?: unknown;
  method?: unknown;
  params?: unknown;
}

const CACHE_MS = 20000;
const debug = process.env.FAKE_KMS_DEBUG === '1';

/** JSON with keys sorted at every level, as KMS (jsoncpp) writes it. */
function stringify(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

function matches(match: RequestMatch | undefined, method: string, params: unknown): boolean {
  if (!match) return true;
  const p = params && typeof params === 'object' ? (params as Record<string, unknown>) : {};
  return (
    (match.method === undefined || match.method === method) &&
    (match.operation === undefined || match.operation === p.operation) &&
    (match.type === undefined || match.type === p.type)
  );
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The text of a WebSocket message (a Buffer, or fragments). */
function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString();
  if (Array.isArray(data)) return Buffer.concat(data).toString();
  return Buffer.from(data).toString();
}

/**
 * A fake KMS. Start it with {@link FakeKms.start}, point kurento-client at {@link FakeKms.url},
 * inspect it with {@link objects} / {@link connections} / {@link calls}, inject faults with
 * {@link failNext} / {@link delay} / {@link hang} / {@link dropConnections} / {@link stop}.
 */
export class FakeKms {
  private httpServer: http.Server | undefined;
  private wss: WebSocketServer | undefined;
  private readonly conns = new Set<Connection>();
  private readonly sessionConns = new Map<string, Connection>();
  private server: MediaServer;
  private readonly log: RecordedCall[] = [];
  private readonly crashes: CrashingCall[] = [];
  private readonly failures: Array<{ match: RequestMatch; error: JsonRpcErrorObject }> = [];
  private delays: Array<{ ms: number; match?: RequestMatch }> = [];
  private hung = false;
  private readonly heldInbound: Array<{ conn: Connection; data: string }> = [];
  private readonly cache = new Map<string, { frame: string; at: number }>();
  private _port: number;
  private readonly host: string;
  private readonly opts: Required<Omit<FakeKmsOptions, 'port' | 'host' | 'media'>> & {
    media?: { videoCodecs: VideoCodecName[] };
  };

  private constructor(opts: FakeKmsOptions) {
    this._port = opts.port ?? 0;
    this.host = opts.host ?? '127.0.0.1';
    this.opts = {
      rtpAddress: opts.rtpAddress ?? '127.0.0.1',
      iceAddress: opts.iceAddress ?? '127.0.0.1',
      simulateMedia: opts.simulateMedia ?? true,
      ...(opts.media
        ? {
            media: {
              videoCodecs: (typeof opts.media === 'object' ? opts.media.videoCodecs : undefined) ?? [
                'VP8',
                'H264',
              ],
            },
          }
        : {}),
    };
    this.server = this.newServer();
  }

  /** Starts a fake KMS listening on `opts.port` (0 = a free port) of `opts.host`. */
  static async start(opts: FakeKmsOptions = {}): Promise<FakeKms> {
    const kms = new FakeKms(opts);
    await kms.listen();
    return kms;
  }

  /** `ws://HOST:PORT/kurento` — the URI to give kurento-client. */
  get url(): string {
    return `ws://${this.host}:${this._port}/kurento`;
  }

  /** The TCP port (stable across {@link stop} / {@link restart}). */
  get port(): number {
    return this._port;
  }

  /** Live (not released) objects: id, type, pipeline id (undefined for a pipeline). The ServerManager is not listed. */
  objects(type?: string): Array<{ id: string; type: string; pipeline?: string }> {
    return [...this.server.graph.objects.values()]
      .filter((o) => o.id !== SERVER_MANAGER_ID && (type === undefined || o.type === type))
      .map((o) => ({
        id: o.id,
        type: o.type,
        ...(o.pipeline !== undefined ? { pipeline: o.pipeline } : {}),
      }));
  }

  /**
   * Connections currently modelled, one per media type (AUDIO / DATA / VIDEO), in the order they
   * were made: endpoint → HubPort, HubPort → endpoint, filter links… (hubs themselves are never
   * connected: they are MediaObjects, their HubPorts are the elements). `unlinked` ones are listed
   * with the flag (see {@link FakeConnection}).
   */
  connections(): FakeConnection[] {
    return this.server.graph.connections.map((c) => ({
      source: c.source,
      sink: c.sink,
      mediaType: c.type,
      ...(c.unlinked ? { unlinked: true as const } : {}),
    }));
  }

  /**
   * Calls that would have crashed a real KMS 7.3 (SIGSEGV, every pipeline gone) and that the fake
   * answered with error {@link WOULD_CRASH_CODE} instead, oldest first: today `AlphaBlending.setMaster`
   * / `setPortProperties` given the id of an existing object that is not a HubPort of that
   * AlphaBlending. Kept across {@link restart}. A correct app leaves it empty.
   */
  get crashingCalls(): readonly CrashingCall[] {
    return this.crashes;
  }

  /** Sinks unlinked by a stale disconnect (see {@link FakeConnection.unlinked}); a correct app leaves it empty. */
  unlinkedSinks(): string[] {
    return [...this.server.graph.unlinkedSinks];
  }

  /**
   * An AlphaBlending's layout as set by `setMaster` / `setPortProperties` (port ids, zOrder, relative
   * x/y/width/height), or undefined for an unknown id or before any call.
   */
  alphaBlendingLayout(hubId: string):
    | {
        master?: { port: string; zOrder: number };
        ports: Record<
          string,
          {
            relativeX: number;
            relativeY: number;
            zOrder: number;
            relativeWidth: number;
            relativeHeight: number;
          }
        >;
      }
    | undefined {
    const layout = this.server.graph.objects.get(hubId)?.layout;
    if (!layout) return undefined;
    return {
      ...(layout.master ? { master: { ...layout.master } } : {}),
      ports: Object.fromEntries([...layout.ports].map(([id, p]) => [id, { ...p }])),
    };
  }

  /** A FaceOverlayFilter's image as last set (`setOverlayedImage`), or undefined (none, unset, unknown id). */
  overlayedImage(filterId: string):
    | {
        uri: string;
        offsetXPercent: number;
        offsetYPercent: number;
        widthPercent: number;
        heightPercent: number;
      }
    | undefined {
    const overlay = this.server.graph.objects.get(filterId)?.overlay;
    return overlay ? { ...overlay } : undefined;
  }

  /**
   * The HubPort whose input a hub forwards out of all its ports for `mediaType` (the fake does not
   * mix: AlphaBlending → its master port's input, else the first input connected), or undefined.
   */
  hubFeed(hubId: string, mediaType: 'AUDIO' | 'VIDEO' = 'VIDEO'): string | undefined {
    return this.server.hubFeed(hubId, mediaType);
  }

  /**
   * What the media port of an endpoint received and sent (with the `media` option): RTP packets and
   * bytes per SSRC, and packets it could not forward for want of a shared codec. Undefined without
   * media, before negotiation, or for an unknown / released id.
   */
  rtpStats(endpointId: string): RtpStats | undefined {
    return this.server.rtpStats(endpointId);
  }

  /** Requests received so far (all connections, pings included; params as processed, i.e. with the connection's sessionId injected), optionally filtered. */
  calls(filter?: RequestMatch): RecordedCall[] {
    return this.log.filter((c) => matches(filter, c.method, c.params));
  }

  /**
   * The next request matching `match` is answered with `error` (a JSON-RPC error object, e.g.
   * `{ code: 40101, message: "Object 'x' not found", data: { type: 'MEDIA_OBJECT_NOT_FOUND' } }`)
   * instead of being processed. Each call arms one failure; an empty match matches any request.
   */
  failNext(match: RequestMatch, error: { code: number; message: string; data?: unknown }): void {
    this.failures.push({ match, error: { ...error } });
  }

  /**
   * Delays the answers to matching requests (all requests when `match` is omitted) by `ms`.
   * `delay(0)` clears every delay; `delay(0, match)` clears the delay set for that match.
   */
  delay(ms: number, match?: RequestMatch): void {
    const same = (m?: RequestMatch): boolean => JSON.stringify(m ?? null) === JSON.stringify(match ?? null);
    if (ms <= 0) {
      this.delays = match ? this.delays.filter((d) => !same(d.match)) : [];
      return;
    }
    this.delays = this.delays.filter((d) => !same(d.match));
    this.delays.push({ ms, ...(match ? { match } : {}) });
  }

  /** Stops answering: requests are held (not answered, not processed) and no frame is sent. */
  hang(): void {
    this.hung = true;
  }

  /** Ends {@link hang}: held frames are sent and held requests are processed in order. */
  resume(): void {
    this.hung = false;
    for (const c of this.conns) {
      for (const frame of c.outbox.splice(0)) this.sendRaw(c, frame);
    }
    for (const { conn, data } of this.heldInbound.splice(0)) {
      if (conn.ws.readyState === WebSocket.OPEN) this.onMessage(conn, data);
    }
  }

  /**
   * Abruptly terminates every client socket (no close frame: like a KMS crash seen from the
   * network). Objects and sessions are kept unless `forget` (then it is like a new KMS process
   * behind the same port: every old id is unknown and `connect {sessionId}` fails with 40007).
   */
  dropConnections(opts: { forget?: boolean } = {}): void {
    for (const c of this.conns) c.ws.terminate();
    this.conns.clear();
    this.sessionConns.clear();
    if (opts.forget) void this.reset();
  }

  /**
   * Stops listening and terminates every socket (KMS process gone): werift peers and RTP sockets
   * are closed too. The object state is kept until {@link restart}.
   */
  async stop(): Promise<void> {
    await this.server.close();
    for (const c of this.conns) c.ws.terminate();
    this.conns.clear();
    this.sessionConns.clear();
    this.heldInbound.length = 0;
    const wss = this.wss;
    const httpServer = this.httpServer;
    this.wss = undefined;
    this.httpServer = undefined;
    if (wss) await new Promise<void>((resolve) => wss.close(() => resolve()));
    if (httpServer) {
      httpServer.closeAllConnections();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    }
  }

  /** Listens again on the same port with empty state: a new KMS process knows no old object or session. */
  async restart(): Promise<void> {
    await this.stop();
    await this.reset();
    this.hung = false;
    await this.listen();
  }

  /** Creates a MediaPipeline out-of-band (e.g. left over from a previous run of the app) and returns its id. */
  createPipelineDirectly(): string {
    return this.server.createPipeline();
  }

  /**
   * Emits an event of `objectId` to the sessions subscribed to it, shaped like KMS's:
   * `data = { source: objectId, tags: [], timestampMillis, type, ...data }` (`data` may override
   * `type`, as KMS's `Error` event does with the error type).
   */
  emit(objectId: string, type: string, data: Record<string, unknown> = {}): void {
    this.server.graph.emit(objectId, type, data);
  }

  // --- internals --------------------------------------------------------------------------------

  private newServer(): MediaServer {
    return new MediaServer(
      { ...this.opts, fingerprint: randomFingerprint() },
      (sessionId, n) => this.deliver(sessionId, n),
      (call) => this.crashes.push(call),
    );
  }

  private async reset(): Promise<void> {
    const old = this.server;
    this.server = this.newServer();
    this.cache.clear();
    this.sessionConns.clear();
    await old.close();
  }

  private async listen(): Promise<void> {
    const httpServer = http.createServer((_req, res) => {
      res.writeHead(404).end();
    });
    const wss = new WebSocketServer({ noServer: true });
    httpServer.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      const { pathname } = new URL(req.url ?? '/', 'http://localhost');
      if (pathname !== '/kurento') {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws));
    });
    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(this._port, this.host, () => {
        httpServer.off('error', reject);
        resolve();
      });
    });
    this._port = (httpServer.address() as AddressInfo).port;
    this.httpServer = httpServer;
    this.wss = wss;
  }

  private onConnection(ws: WebSocket): void {
    const conn: Connection = { ws, outbox: [] };
    this.conns.add(conn);
    ws.on('message', (data: RawData) => this.onMessage(conn, rawText(data)));
    ws.on('close', () => {
      this.conns.delete(conn);
      for (const [sid, c] of this.sessionConns) if (c === conn) this.sessionConns.delete(sid);
    });
    ws.on('error', () => undefined);
  }

  private onMessage(conn: Connection, data: string): void {
    if (this.hung) {
      this.heldInbound.push({ conn, data });
      return;
    }
    if (debug) console.error(`[fake-kms] <- ${data}`);
    let msg: unknown;
    try {
      msg = JSON.parse(data);
    } catch {
      this.send(conn, {
        error: { code: JSONRPC_ERROR_CODES.PARSE_ERROR, message: 'Parse error.' },
        id: null,
        jsonrpc: '2.0',
      });
      return;
    }
    if (Array.isArray(msg)) {
      void Promise.all(msg.map((m) => this.process(conn, m))).then((responses) => {
        const out = responses.filter((r) => r !== undefined);
        if (out.length) this.send(conn, out);
      });
      return;
    }
    void this.process(conn, msg).then((response) => {
      if (response !== undefined) this.send(conn, response);
    });
  }

  /** Processes one JSON-RPC message and returns the response object (undefined for a notification). */
  private async process(conn: Connection, msg: unknown): Promise<unknown> {
    const req = (msg && typeof msg === 'object' ? msg : {}) as JsonRpcRequest;
    const invalid = {
      error: { code: JSONRPC_ERROR_CODES.INVALID_REQUEST, message: 'Invalid JSON-RPC request.' },
      id: null,
      jsonrpc: '2.0',
    };
    if (req.jsonrpc !== '2.0') return invalid;
    if (req.method === undefined && ('result' in req || 'error' in req)) return undefined; // a response: ignore
    if (typeof req.method !== 'string') return invalid;
    if (req.id !== undefined && req.id !== null && typeof req.id === 'object') return invalid;
    const method = req.method;
    const id = req.id ?? null;

    // ServerMethods::process: inject the connection's session into requests without one. A request
    // that creates a session binds it to the connection at once (the real KMS answered the
    // pipelined describe requests 1 and 2 with the same new session, see the recording), so that
    // requests pipelined behind it join the same session. A ping never creates one.
    let params = req.params;
    const given =
      params && typeof params === 'object' ? (params as Record<string, unknown>).sessionId : undefined;
    if (
      conn.sessionId === undefined &&
      typeof given !== 'string' &&
      method !== 'ping' &&
      method !== 'connect'
    ) {
      const sid = randomUUID();
      conn.sessionId = sid;
      this.sessionConns.set(sid, conn);
    }
    if (conn.sessionId !== undefined) {
      const p =
        params && typeof params === 'object' && !Array.isArray(params)
          ? (params as Record<string, unknown>)
          : {};
      if (typeof p.sessionId !== 'string') params = { ...p, sessionId: conn.sessionId };
    }
    this.log.push({ method, params: structuredClone(params) });

    const sessionId =
      params && typeof params === 'object' ? (params as Record<string, unknown>).sessionId : undefined;
    const cacheKey =
      typeof sessionId === 'string' && (typeof id === 'string' || typeof id === 'number')
        ? `${sessionId}|${id}`
        : undefined;
    const now = Date.now();
    for (const [k, v] of this.cache) if (now - v.at > CACHE_MS) this.cache.delete(k);
    if (cacheKey) {
      const cached = this.cache.get(cacheKey);
      if (cached) return JSON.parse(cached.frame) as unknown;
    }

    const failure = this.failures.findIndex((f) => matches(f.match, method, params));
    const delayMs = Math.max(
      0,
      ...this.delays.filter((d) => matches(d.match, method, params)).map((d) => d.ms),
    );
    if (delayMs > 0) await sleep(delayMs);

    let response: Record<string, unknown>;
    if (failure >= 0) {
      const [f] = this.failures.splice(failure, 1);
      response = { error: f?.error, id, jsonrpc: '2.0' };
    } else {
      try {
        const result = await this.server.handle(method, params);
        response = { id, jsonrpc: '2.0', result };
      } catch (e) {
        const err =
          e instanceof KmsError
            ? e
            : new KmsError(
                JSONRPC_ERROR_CODES.INTERNAL_ERROR,
                `Unexpected error while processing method: ${e instanceof Error ? e.message : String(e)}`,
              );
        response = { error: err.toJson(), id, jsonrpc: '2.0' };
      }
      if (cacheKey) this.cache.set(cacheKey, { frame: stringify(response), at: Date.now() });
    }

    // The transport binds the connection to the session its last result carried (events follow it).
    const result = response.result;
    if (
      result &&
      typeof result === 'object' &&
      typeof (result as { sessionId?: unknown }).sessionId === 'string'
    ) {
      const sid = (result as { sessionId: string }).sessionId;
      conn.sessionId = sid;
      this.sessionConns.set(sid, conn);
    }
    if (req.id === undefined || req.id === null) return undefined; // a notification gets no response
    return response;
  }

  private deliver(sessionId: string, notification: EventNotification): void {
    const conn = this.sessionConns.get(sessionId);
    if (conn) this.send(conn, notification);
  }

  private send(conn: Connection, message: unknown): void {
    const frame = stringify(message);
    if (this.hung) {
      conn.outbox.push(frame);
      return;
    }
    this.sendRaw(conn, frame);
  }

  private sendRaw(conn: Connection, frame: string): void {
    if (conn.ws.readyState !== WebSocket.OPEN) return;
    if (debug) console.error(`[fake-kms] -> ${frame}`);
    conn.ws.send(frame);
  }
}

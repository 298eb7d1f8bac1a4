/**
 * The WebSocket server at `/ws`: accepts connections (optionally authenticated by an
 * `Authorization: Bearer <token>` header), validates every JSON-RPC message with zod before any of it
 * reaches rooms/, dispatches requests, answers with results or JSON-RPC errors (codes in
 * doc/protocol.md), and pings every peer so dead connections are noticed and leave their room.
 *
 * Nothing a client sends may throw out of an event handler: a malformed upgrade request gets a 400,
 * a message that breaks a handler gets a JSON-RPC error. One connection's cost is bounded: requests
 * in flight (Limits.maxInFlight), costly requests per 10 s (Limits.costlyPer10s), and unread replies
 * (Limits.maxBufferedBytes, then close 1008). A login is re-checked on every call that needs it and
 * when its session is revoked, so logout and expiry reach connections opened before them.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { publicUser, tokenHash, type AuthService } from '../auth/AuthService.js';
import { RateLimitedError, TheiaError, UnauthenticatedError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { RoomManager } from '../rooms/RoomManager.js';
import type { UserRecord } from '../store/Store.js';
import { Peer, type JsonRpcId } from './Peer.js';
import {
  ErrorCode,
  Limits,
  type Method,
  type RequestParams,
  type RequestResults,
  type SessionEndReason,
} from '../protocol/index.js';
import { describeIssues, paramsSchemas, requestEnvelope } from './schemas.js';

/** Frames above this size close the socket (ws code 1009); below it but above Limits.maxMessageBytes get an error. */
const HARD_MAX_PAYLOAD = 1024 * 1024;

type Handlers = { [M in Method]: (peer: Peer, params: RequestParams[M]) => Promise<RequestResults[M]> };

/** Requests that make the server do real work (chat replay, KMS objects): rate-limited per connection. */
const COSTLY: ReadonlySet<Method> = new Set(['joinRoom', 'startLive', 'publishVideo', 'receiveVideo']);

export interface SignallingOptions {
  path?: string;
  heartbeatMs: number;
  /**
   * Browser origins allowed to open the socket besides the app's own (the origin whose host is the
   * request's Host, and `publicUrl`'s). Requests without an Origin header (non-browser clients)
   * are allowed: the check stops other sites' pages from using a visitor's login (CSWSH).
   */
  allowedOrigins?: readonly string[];
  /** The URL browsers use to reach the app (config PUBLIC_URL). */
  publicUrl?: string;
  /** Unread bytes queued per socket before it is closed with 1008; default Limits.maxBufferedBytes. */
  maxBufferedBytes?: number;
}

/** The origin (`scheme://host[:port]`) of a URL, or undefined when it does not parse. */
function originOf(url: string): string | undefined {
  if (!URL.canParse(url)) return undefined;
  const origin = new URL(url).origin;
  return origin === 'null' ? undefined : origin;
}

/** Answers an upgrade request with a bare HTTP status and closes the socket. */
function refuse(socket: Duplex, status: string): void {
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

export class SignallingServer {
  readonly #wss: WebSocketServer;
  readonly #auth: AuthService;
  readonly #rooms: RoomManager;
  readonly #log: Logger;
  readonly #path: string;
  readonly #peers = new Set<Peer>();
  readonly #heartbeat: NodeJS.Timeout;
  readonly #handlers: Handlers;
  readonly #allowedOrigins: ReadonlySet<string>;
  readonly #maxBufferedBytes: number | undefined;
  readonly #costly = new RateLimiterMemory({ points: Limits.costlyPer10s, duration: 10 });
  readonly #refusals = new RateLimiterMemory({ points: Limits.refusedPer10s, duration: 10 });

  constructor(http: Server, auth: AuthService, rooms: RoomManager, log: Logger, options: SignallingOptions) {
    this.#auth = auth;
    this.#rooms = rooms;
    this.#log = log;
    this.#path = options.path ?? '/ws';
    this.#maxBufferedBytes = options.maxBufferedBytes;
    this.#allowedOrigins = new Set(
      [...(options.allowedOrigins ?? []), options.publicUrl ?? '']
        .map(originOf)
        .filter((o): o is string => o !== undefined),
    );
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: HARD_MAX_PAYLOAD });
    http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      // after 'upgrade' the HTTP server no longer watches the socket: an error on it must not crash us
      socket.on('error', (err) => this.#log.debug({ err }, 'upgrade socket error'));
      try {
        this.#onUpgrade(req, socket, head);
      } catch (err) {
        this.#log.warn({ err, url: req.url }, 'refused a malformed upgrade request');
        refuse(socket, '400 Bad Request');
      }
    });
    auth.on('sessionRevoked', (hash) => {
      for (const peer of this.#peers) if (peer.sessionHash === hash) this.#endSession(peer, 'loggedOut');
    });
    this.#heartbeat = setInterval(() => this.#ping(), options.heartbeatMs);
    this.#heartbeat.unref();
    this.#handlers = this.#makeHandlers();
  }

  /** Connected peers. */
  get size(): number {
    return this.#peers.size;
  }

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    // the path is compared as sent; `new URL()` would throw on request targets like `//` or `/\\`
    const pathname = (req.url ?? '').split('?', 1)[0];
    if (pathname !== this.#path) {
      refuse(socket, '404 Not Found');
      return;
    }
    if (!this.#originAllowed(req)) {
      this.#log.info({ origin: req.headers.origin }, 'refused a WebSocket from another site');
      refuse(socket, '403 Forbidden');
      return;
    }
    let login: { user: UserRecord; sessionHash: string } | undefined;
    const header = req.headers.authorization;
    if (header?.startsWith('Bearer ')) {
      const sessionHash = tokenHash(header.slice(7));
      const user = this.#auth.userOfSession(sessionHash);
      if (!user) {
        refuse(socket, '401 Unauthorized');
        return;
      }
      login = { user, sessionHash };
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#onConnection(ws, login));
  }

  /** No Origin (not a browser), the app's own origin, or one of the configured ones. */
  #originAllowed(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (origin === undefined) return true;
    const parsed = originOf(origin);
    if (parsed === undefined) return false;
    return this.#allowedOrigins.has(parsed) || new URL(parsed).host === req.headers.host;
  }

  #onConnection(ws: WebSocket, login: { user: UserRecord; sessionHash: string } | undefined): void {
    const peer = new Peer(ws, this.#log, login, this.#maxBufferedBytes);
    this.#peers.add(peer);
    peer.log.debug({ userId: login?.user.id }, 'connected');
    ws.on('message', (data, isBinary) => {
      try {
        this.#onMessage(peer, data, isBinary);
      } catch (err) {
        peer.log.error({ err }, 'a message broke the handler');
        peer.respondError(null, ErrorCode.InternalError, 'Something went wrong on the server. Try again.');
      }
    });
    ws.on('error', (err) => peer.log.debug({ err }, 'socket error'));
    ws.on('close', () => {
      this.#peers.delete(peer);
      peer.log.debug('disconnected');
      this.#rooms
        .leave(peer, true)
        .catch((err: unknown) => peer.log.error({ err }, 'leaving the room failed'));
    });
  }

  #ping(): void {
    for (const peer of this.#peers) {
      // an expired login ends within one heartbeat even on a connection that sends nothing
      if (peer.user) this.#currentUser(peer);
      if (!peer.alive) {
        peer.log.info('no pong since the last heartbeat; closing');
        peer.terminate();
        continue;
      }
      peer.alive = false;
      peer.ping();
    }
  }

  #onMessage(peer: Peer, data: RawData, isBinary: boolean): void {
    if (!peer.open) return; // closing: what it still sends is not answered
    const bytes = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data.byteLength;
    if (bytes > Limits.maxMessageBytes) {
      peer.respondError(
        null,
        ErrorCode.MessageTooLarge,
        `Messages are limited to ${Limits.maxMessageBytes} bytes.`,
      );
      return;
    }
    if (isBinary) {
      peer.respondError(null, ErrorCode.InvalidRequest, 'Send JSON-RPC 2.0 as text frames.');
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(
        Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8'),
      );
    } catch {
      peer.respondError(null, ErrorCode.ParseError, 'The message is not valid JSON.');
      return;
    }
    if (Array.isArray(json)) {
      peer.respondError(
        null,
        ErrorCode.InvalidRequest,
        'Batch requests are not supported; send one request per message.',
      );
      return;
    }
    // a response from the client (we send no requests) is ignored
    if (
      json !== null &&
      typeof json === 'object' &&
      !('method' in json) &&
      ('result' in json || 'error' in json)
    )
      return;
    const envelope = requestEnvelope.safeParse(json);
    if (!envelope.success) {
      const id = (json as { id?: unknown } | null)?.id;
      peer.respondError(
        typeof id === 'string' || typeof id === 'number' ? id : null,
        ErrorCode.InvalidRequest,
        `Not a JSON-RPC 2.0 request (${describeIssues(envelope.error)}).`,
      );
      return;
    }
    const { method, params, id } = envelope.data;
    void this.#dispatch(peer, method, params, id);
  }

  async #dispatch(peer: Peer, method: string, rawParams: unknown, id: JsonRpcId | undefined): Promise<void> {
    const isNotification = id === undefined;
    const fail = (code: ErrorCode, message: string, data?: unknown): void => {
      if (!isNotification) peer.respondError(id, code, message, data);
      else peer.log.debug({ method, code, message }, 'notification failed');
    };
    if (!Object.hasOwn(paramsSchemas, method)) {
      fail(ErrorCode.MethodNotFound, `Unknown method "${method}". See doc/protocol.md for the methods.`);
      return;
    }
    const m = method as Method;
    const parsed = paramsSchemas[m].safeParse(rawParams);
    if (!parsed.success) {
      fail(ErrorCode.InvalidParams, `Invalid params for ${m}: ${describeIssues(parsed.error)}.`);
      return;
    }
    if (peer.inFlight >= Limits.maxInFlight) {
      this.#refused(peer);
      fail(
        ErrorCode.RateLimited,
        `Too many requests waiting for an answer (at most ${Limits.maxInFlight}); wait for the answers.`,
      );
      return;
    }
    peer.inFlight++;
    try {
      if (COSTLY.has(m)) await this.#consumeCostly(peer, m);
      if (peer.user) this.#currentUser(peer);
      const handler = this.#handlers[m] as (peer: Peer, params: unknown) => Promise<unknown>;
      const result = await handler(peer, parsed.data);
      if (!isNotification) peer.respond(id, result);
    } catch (err) {
      if (err instanceof TheiaError) {
        const kmsCode = (err as { kmsCode?: number }).kmsCode;
        fail(err.code, err.message, kmsCode === undefined ? undefined : { kmsCode });
      } else {
        peer.log.error({ err, method: m }, 'request failed');
        fail(ErrorCode.InternalError, 'Something went wrong on the server. Try again.');
      }
    } finally {
      peer.inFlight--;
    }
  }

  async #consumeCostly(peer: Peer, method: Method): Promise<void> {
    try {
      await this.#costly.consume(peer.id);
    } catch {
      this.#refused(peer);
      throw new RateLimitedError(
        `Too many ${method} requests: at most ${Limits.costlyPer10s} costly requests per 10 seconds. Wait a few seconds.`,
      );
    }
  }

  /** Counts a request refused for a limit; a peer that keeps breaking limits is closed (1008). */
  #refused(peer: Peer): void {
    this.#refusals.consume(peer.id).catch(() => {
      peer.log.warn('too many refused requests; closing');
      peer.closeForPolicy(`More than ${Limits.refusedPer10s} requests refused in 10 s.`);
    });
  }

  /**
   * The peer's user while its session is valid; when the session was revoked or has expired, ends
   * it (see #endSession) and returns undefined.
   */
  #currentUser(peer: Peer): UserRecord | undefined {
    if (!peer.user || !peer.sessionHash) return undefined;
    const user = this.#auth.userOfSession(peer.sessionHash);
    if (!user) this.#endSession(peer, 'expired');
    return user;
  }

  /**
   * The peer's login ended: it becomes anonymous, leaves its room (a host's live ends: its role
   * came from the login) and is told with `sessionEnded`, so the client can join again as a visitor.
   */
  #endSession(peer: Peer, reason: SessionEndReason): void {
    if (!peer.user) return;
    peer.log.info({ userId: peer.user.id, reason }, 'session ended');
    peer.user = undefined;
    peer.sessionHash = undefined;
    this.#rooms.leave(peer).catch((err: unknown) => peer.log.error({ err }, 'leaving the room failed'));
    peer.notify('sessionEnded', { reason });
  }

  #makeHandlers(): Handlers {
    const rooms = this.#rooms;
    return {
      authenticate: (peer, { token }) => {
        peer.user = this.#auth.authenticate(token);
        peer.sessionHash = tokenHash(token);
        return Promise.resolve({ user: publicUser(peer.user) });
      },
      joinRoom: (peer, { roomId }) => rooms.join(peer, roomId),
      leaveRoom: async (peer) => {
        await rooms.leave(peer);
        return {};
      },
      startLive: (peer) => {
        if (!peer.user) throw new UnauthenticatedError('Log in to go live.');
        return rooms.roomOf(peer).startLive(peer);
      },
      stopLive: async (peer) => {
        if (!peer.user) throw new UnauthenticatedError('Log in to stop a live.');
        await rooms.roomOf(peer).stopLive(peer);
        return {};
      },
      publishVideo: async (peer, { sdpOffer }) => {
        if (!peer.user) throw new UnauthenticatedError('Log in to send video.');
        return { sdpAnswer: await rooms.roomOf(peer).publish(peer, sdpOffer) };
      },
      receiveVideo: async (peer, { sdpOffer, from }) => ({
        sdpAnswer: await rooms.roomOf(peer).receive(peer, sdpOffer, from),
      }),
      onIceCandidate: (peer, { endpoint, candidate }) => {
        rooms.roomOf(peer).addIceCandidate(peer, endpoint, candidate);
        return Promise.resolve({});
      },
      sendMessage: async (peer, { text }) => {
        if (!peer.user) throw new UnauthenticatedError('Log in to chat.');
        return { message: await rooms.roomOf(peer).sendMessage(peer, text) };
      },
      stopReceiving: (peer, { endpoint }) => {
        rooms.roomOf(peer).stopReceiving(peer, endpoint);
        return Promise.resolve({});
      },
      setCoHosting: async (peer, { enabled }) => {
        await rooms.roomOf(peer).setCoHosting(peer, enabled);
        return {};
      },
      requestCoHost: async (peer) => {
        await rooms.roomOf(peer).requestCoHost(peer);
        return {};
      },
      cancelCoHostRequest: async (peer) => {
        await rooms.roomOf(peer).cancelCoHostRequest(peer);
        return {};
      },
      acceptCoHost: (peer, { userId }) => rooms.roomOf(peer).acceptCoHost(peer, userId),
      rejectCoHost: async (peer, { userId }) => {
        await rooms.roomOf(peer).rejectCoHost(peer, userId);
        return {};
      },
      endCoHost: async (peer, { userId }) => {
        await rooms.roomOf(peer).endCoHost(peer, userId);
        return {};
      },
      setLayout: async (peer, { layout }) => {
        await rooms.roomOf(peer).setLayout(peer, layout);
        return {};
      },
      setFaceDetection: async (peer, { enabled }) => {
        await rooms.roomOf(peer).setFaceDetection(peer, enabled);
        return {};
      },
    };
  }

  /** Closes every connection (code 1001, going away) and stops the heartbeat. */
  close(): Promise<void> {
    clearInterval(this.#heartbeat);
    for (const ws of this.#wss.clients) ws.close(1001, 'server shutting down');
    return new Promise((resolve) => this.#wss.close(() => resolve()));
  }
}

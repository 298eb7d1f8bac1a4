/**
 * The WebSocket server at `/ws`: accepts connections (optionally authenticated by an
 * `Authorization: Bearer <token>` header), validates every JSON-RPC message with zod before any of it
 * reaches rooms/, dispatches requests, answers with results or JSON-RPC errors (codes in
 * doc/protocol.md), and pings every peer so dead connections are noticed and leave their room.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { publicUser, type AuthService } from '../auth/AuthService.js';
import { TheiaError, UnauthenticatedError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { RoomManager } from '../rooms/RoomManager.js';
import { Peer, type JsonRpcId } from './Peer.js';
import { ErrorCode, Limits, type Method, type RequestParams, type RequestResults } from './protocol.js';
import { describeIssues, paramsSchemas, requestEnvelope } from './schemas.js';

/** Frames above this size close the socket (ws code 1009); below it but above Limits.maxMessageBytes get an error. */
const HARD_MAX_PAYLOAD = 1024 * 1024;

type Handlers = { [M in Method]: (peer: Peer, params: RequestParams[M]) => Promise<RequestResults[M]> };

export interface SignallingOptions {
  path?: string;
  heartbeatMs: number;
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

  constructor(http: Server, auth: AuthService, rooms: RoomManager, log: Logger, options: SignallingOptions) {
    this.#auth = auth;
    this.#rooms = rooms;
    this.#log = log;
    this.#path = options.path ?? '/ws';
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: HARD_MAX_PAYLOAD });
    http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.#onUpgrade(req, socket, head),
    );
    this.#heartbeat = setInterval(() => this.#ping(), options.heartbeatMs);
    this.#heartbeat.unref();
    this.#handlers = this.#makeHandlers();
  }

  /** Connected peers. */
  get size(): number {
    return this.#peers.size;
  }

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== this.#path) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    let user: Peer['user'];
    const header = req.headers.authorization;
    if (header?.startsWith('Bearer ')) {
      try {
        user = this.#auth.authenticate(header.slice(7));
      } catch {
        socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
        return;
      }
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#onConnection(ws, user));
  }

  #onConnection(ws: WebSocket, user: Peer['user']): void {
    const peer = new Peer(ws, this.#log, user);
    this.#peers.add(peer);
    peer.log.debug({ userId: user?.id }, 'connected');
    ws.on('message', (data, isBinary) => this.#onMessage(peer, data, isBinary));
    ws.on('error', (err) => peer.log.debug({ err }, 'socket error'));
    ws.on('close', () => {
      this.#peers.delete(peer);
      peer.log.debug('disconnected');
      this.#rooms.leave(peer).catch((err: unknown) => peer.log.error({ err }, 'leaving the room failed'));
    });
  }

  #ping(): void {
    for (const peer of this.#peers) {
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
    try {
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
    }
  }

  #makeHandlers(): Handlers {
    const rooms = this.#rooms;
    return {
      authenticate: (peer, { token }) => {
        peer.user = this.#auth.authenticate(token);
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
      receiveVideo: async (peer, { sdpOffer }) => ({
        sdpAnswer: await rooms.roomOf(peer).receive(peer, sdpOffer),
      }),
      onIceCandidate: (peer, { endpoint, candidate }) => {
        rooms.roomOf(peer).addIceCandidate(peer, endpoint, candidate);
        return Promise.resolve({});
      },
      sendMessage: async (peer, { text }) => {
        if (!peer.user) throw new UnauthenticatedError('Log in to chat.');
        return { message: await rooms.roomOf(peer).sendMessage(peer, text) };
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

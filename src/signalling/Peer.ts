/**
 * One signalling WebSocket: JSON-RPC 2.0 framing (https://www.jsonrpc.org/specification) on top,
 * the Participant the room logic sees underneath.
 */
import { randomUUID } from 'node:crypto';
import { WebSocket } from 'ws';
import type { Logger } from '../logger.js';
import type { Participant } from '../rooms/Participant.js';
import type { UserRecord } from '../store/Store.js';
import {
  CloseCode,
  Limits,
  type ErrorCode,
  type NotificationMethod,
  type NotificationParams,
} from '../protocol/index.js';

export type JsonRpcId = string | number | null;

/** How long a socket closed for not reading may keep its close handshake open, ms. */
const CLOSE_GRACE_MS = 1000;

export class Peer implements Participant {
  readonly id = randomUUID();
  readonly #socket: WebSocket;
  readonly #maxBufferedBytes: number;
  readonly log: Logger;
  /** The logged-in user, while the session below is valid. */
  user: UserRecord | undefined;
  /** The sha256 of the bearer token this connection logged in with (see auth/tokenHash). */
  sessionHash: string | undefined;
  /** Requests received and not yet answered. */
  inFlight = 0;
  /** Cleared on each heartbeat ping, set by the pong. */
  alive = true;

  /**
   * @param maxBufferedBytes unread bytes queued for this socket before it is closed with 1008
   *   (default Limits.maxBufferedBytes)
   */
  constructor(
    socket: WebSocket,
    log: Logger,
    login?: { user: UserRecord; sessionHash: string },
    maxBufferedBytes: number = Limits.maxBufferedBytes,
  ) {
    this.#socket = socket;
    this.user = login?.user;
    this.sessionHash = login?.sessionHash;
    this.#maxBufferedBytes = maxBufferedBytes;
    this.log = log.child({ peerId: this.id });
    socket.on('pong', () => (this.alive = true));
  }

  /** Sends a WebSocket ping (RFC 6455 §5.5.2); browsers answer with a pong by themselves. */
  ping(): void {
    this.#socket.ping();
  }

  /**
   * Closes the connection with 1008 (policy violation, RFC 6455 §7.4.1) and `reason`; drops it
   * after CLOSE_GRACE_MS if the client does not answer the close (it may not be reading at all).
   */
  closeForPolicy(reason: string): void {
    if (!this.open) return;
    this.#socket.close(CloseCode.PolicyViolation, reason);
    setTimeout(() => this.#socket.terminate(), CLOSE_GRACE_MS).unref();
  }

  /** Drops the connection at once, without a closing handshake. */
  terminate(): void {
    this.#socket.terminate();
  }

  get open(): boolean {
    return this.#socket.readyState === WebSocket.OPEN;
  }

  notify<M extends NotificationMethod>(method: M, params: NotificationParams[M]): void {
    this.#send({ jsonrpc: '2.0', method, params });
  }

  /** Sends a JSON-RPC result. */
  respond(id: JsonRpcId, result: unknown): void {
    this.#send({ jsonrpc: '2.0', id, result });
  }

  /** Sends a JSON-RPC error object. */
  respondError(id: JsonRpcId, code: ErrorCode, message: string, data?: unknown): void {
    this.#send({
      jsonrpc: '2.0',
      id,
      error: data === undefined ? { code, message } : { code, message, data },
    });
  }

  #send(message: object): void {
    if (!this.open) return;
    if (this.#socket.bufferedAmount > this.#maxBufferedBytes) {
      // a client that stops reading would otherwise make the server hold every reply in memory
      this.log.warn({ bufferedAmount: this.#socket.bufferedAmount }, 'client is not reading; closing');
      this.closeForPolicy('Too much unread data: read what the server sends.');
      return;
    }
    this.#socket.send(JSON.stringify(message), (err) => {
      if (err) this.log.debug({ err }, 'send failed');
    });
  }
}

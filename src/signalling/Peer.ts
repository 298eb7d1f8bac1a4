/**
 * One signalling WebSocket: JSON-RPC 2.0 framing (https://www.jsonrpc.org/specification) on top,
 * the Participant the room logic sees underneath.
 */
import { randomUUID } from 'node:crypto';
import { WebSocket } from 'ws';
import type { Logger } from '../logger.js';
import type { Participant } from '../rooms/Participant.js';
import type { UserRecord } from '../store/Store.js';
import type { ErrorCode, NotificationMethod, NotificationParams } from './protocol.js';

export type JsonRpcId = string | number | null;

export class Peer implements Participant {
  readonly id = randomUUID();
  readonly #socket: WebSocket;
  readonly log: Logger;
  user: UserRecord | undefined;
  /** Cleared on each heartbeat ping, set by the pong. */
  alive = true;

  constructor(socket: WebSocket, log: Logger, user?: UserRecord) {
    this.#socket = socket;
    this.user = user;
    this.log = log.child({ peerId: this.id });
    socket.on('pong', () => (this.alive = true));
  }

  /** Sends a WebSocket ping (RFC 6455 §5.5.2); browsers answer with a pong by themselves. */
  ping(): void {
    this.#socket.ping();
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
    this.#socket.send(JSON.stringify(message), (err) => {
      if (err) this.log.debug({ err }, 'send failed');
    });
  }
}

/**
 * A JSON-RPC 2.0 WebSocket client for integration tests: `request()` resolves with the result or
 * rejects with an RpcError carrying the code; notifications are recorded and can be awaited.
 */
import { WebSocket } from 'ws';
import type { NotificationMethod, NotificationParams } from '../../src/protocol/index.js';

export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

interface Waiter {
  method: string;
  match: (params: unknown) => boolean;
  resolve: (params: unknown) => void;
}

export class RpcClient {
  readonly socket: WebSocket;
  readonly notifications: Array<{ method: string; params: unknown }> = [];
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly #waiters = new Set<Waiter>();
  /** Answers that carried no id we know (e.g. errors to unparsable frames): id null. */
  readonly orphans: Array<{ error?: { code: number; message: string } }> = [];
  #nextId = 1;

  private constructor(socket: WebSocket) {
    this.socket = socket;
    socket.on('message', (data: Buffer) => this.#onMessage(data.toString('utf8')));
    socket.on('close', () => {
      for (const p of this.#pending.values()) p.reject(new Error('socket closed'));
      this.#pending.clear();
    });
  }

  /** Opens a socket to `url` (ws://…/ws), optionally with a bearer token on the upgrade. */
  static connect(url: string, token?: string): Promise<RpcClient> {
    const socket = new WebSocket(url, token ? { headers: { Authorization: `Bearer ${token}` } } : {});
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(new RpcClient(socket)));
      socket.once('error', reject);
      socket.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
  }

  #onMessage(text: string): void {
    const msg = JSON.parse(text) as {
      id?: number | null;
      method?: string;
      params?: unknown;
      result?: unknown;
      error?: { code: number; message: string; data?: unknown };
    };
    if (msg.method) {
      this.notifications.push({ method: msg.method, params: msg.params });
      for (const w of [...this.#waiters]) {
        if (w.method === msg.method && w.match(msg.params)) {
          this.#waiters.delete(w);
          w.resolve(msg.params);
        }
      }
      return;
    }
    const pending = typeof msg.id === 'number' ? this.#pending.get(msg.id) : undefined;
    if (!pending) {
      this.orphans.push(msg);
      for (const w of [...this.#waiters]) {
        if (w.method !== '@orphan') continue;
        this.#waiters.delete(w);
        w.resolve(msg);
      }
      return;
    }
    this.#pending.delete(msg.id!);
    if (msg.error) pending.reject(new RpcError(msg.error.code, msg.error.message, msg.error.data));
    else pending.resolve(msg.result);
  }

  /** Sends a request; resolves with its result, rejects with RpcError. */
  request<T = unknown>(method: string, params?: unknown): Promise<T> {
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.socket.send(
        JSON.stringify({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) }),
      );
    });
  }

  /** Sends a raw frame and resolves with the next answer that has no known id. */
  sendRaw(data: string | Buffer, binary = false): Promise<{ error?: { code: number; message: string } }> {
    const answer = new Promise<{ error?: { code: number; message: string } }>((resolve) =>
      this.#waiters.add({ method: '@orphan', match: () => true, resolve: resolve as (v: unknown) => void }),
    );
    this.socket.send(data, { binary });
    return answer;
  }

  /** Resolves with the first notification `method` (already received or coming) whose params match. */
  next<M extends NotificationMethod>(
    method: M,
    match: (params: NotificationParams[M]) => boolean = () => true,
    timeoutMs = 5000,
  ): Promise<NotificationParams[M]> {
    const seen = this.notifications.find(
      (n) => n.method === method && match(n.params as NotificationParams[M]),
    );
    if (seen) return Promise.resolve(seen.params as NotificationParams[M]);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        method,
        match: match as (p: unknown) => boolean,
        resolve: (p) => {
          clearTimeout(timer);
          resolve(p as NotificationParams[M]);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`no ${method} notification within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  /** All notifications `method` received so far. */
  all<M extends NotificationMethod>(method: M): Array<NotificationParams[M]> {
    return this.notifications
      .filter((n) => n.method === method)
      .map((n) => n.params as NotificationParams[M]);
  }

  /** Closes the socket and resolves once the close handshake is done. */
  close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.close();
    });
  }
}

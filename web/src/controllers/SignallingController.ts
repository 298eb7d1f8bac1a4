/**
 * The signalling socket of one page (JSON-RPC 2.0 over the WebSocket at `/ws`,
 * https://www.jsonrpc.org/specification; methods in src/protocol/ and doc/protocol.md).
 * Opens when its host connects, closes when the host disconnects, and does not reconnect by
 * itself: the server ties room membership and media to the socket, so a new socket means joining
 * again, which the owner of the page decides.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { ClientErrorCode, RpcError } from '../errors.js';
import type {
  Method,
  NotificationMethod,
  NotificationParams,
  RequestParams,
  RequestResults,
} from '../protocol.js';

/** `connecting` → `open` → `closed`; `connect()` starts over. */
export type SignallingState = 'idle' | 'connecting' | 'open' | 'closed';

type Listener<N extends NotificationMethod> = (params: NotificationParams[N]) => void;

interface Pending {
  method: string;
  resolve: (result: unknown) => void;
  reject: (err: RpcError) => void;
  timer: ReturnType<typeof setTimeout>;
}

export interface SignallingOptions {
  /** ws:// or wss:// URL; defaults to `/ws` on the page's origin. */
  url?: string;
  /** A request with no answer after this long fails with ClientErrorCode.Timeout. */
  timeoutMs?: number;
}

function defaultUrl(): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/ws`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A typed JSON-RPC client on one WebSocket, owned by a Lit element. */
export class SignallingController implements ReactiveController {
  readonly #host: ReactiveControllerHost;
  readonly #url: string;
  readonly #timeoutMs: number;
  readonly #pending = new Map<number, Pending>();
  readonly #listeners = new Map<NotificationMethod, Set<(params: never) => void>>();
  readonly #closeListeners = new Set<(reason: string) => void>();
  #socket: WebSocket | undefined;
  #opened: Promise<void> = Promise.reject(new RpcError(ClientErrorCode.Network, 'Not connected.'));
  #rejectOpened: ((err: RpcError) => void) | undefined;
  #nextId = 1;
  #state: SignallingState = 'idle';

  constructor(host: ReactiveControllerHost, options: SignallingOptions = {}) {
    this.#host = host;
    this.#url = options.url ?? defaultUrl();
    this.#timeoutMs = options.timeoutMs ?? 15_000;
    this.#opened.catch(() => undefined);
    host.addController(this);
  }

  get state(): SignallingState {
    return this.#state;
  }

  hostConnected(): void {
    this.connect();
  }

  hostDisconnected(): void {
    this.close();
  }

  /** Opens a new socket (closing the current one). `opened` settles when it is open or failed. */
  connect(): void {
    this.#teardown('Reconnecting.');
    const socket = new WebSocket(this.#url);
    this.#socket = socket;
    this.#setState('connecting');
    this.#opened = new Promise<void>((resolve, reject) => {
      this.#rejectOpened = reject;
      socket.addEventListener('open', () => {
        if (this.#socket !== socket) return;
        this.#rejectOpened = undefined;
        this.#setState('open');
        resolve();
      });
      socket.addEventListener('close', (event) => {
        if (this.#socket !== socket) return;
        const reason = event.reason || 'The connection to the server was lost.';
        this.#rejectOpened = undefined;
        reject(
          new RpcError(ClientErrorCode.Network, 'Cannot reach the server. Check your connection and reload.'),
        );
        this.#socket = undefined;
        this.#failPending(reason);
        this.#setState('closed');
        for (const listener of [...this.#closeListeners]) listener(reason);
      });
    });
    this.#opened.catch(() => undefined); // callers of `opened` see the rejection; nobody else needs to
    socket.addEventListener('message', (event) => this.#onMessage(event.data));
  }

  /** Resolves once the socket is open; rejects when it closes before that. */
  get opened(): Promise<void> {
    return this.#opened;
  }

  /** Closes the socket; pending requests fail. Idempotent. */
  close(): void {
    this.#teardown('The page closed the connection.');
    if (this.#state !== 'idle') this.#setState('closed');
  }

  /**
   * Sends a request and resolves with its result.
   * @throws RpcError with the server's `{code, message}`; ClientErrorCode.Network when the socket is
   *   not open or closes first; ClientErrorCode.Timeout after `timeoutMs`.
   */
  request<M extends Method>(method: M, params: RequestParams[M]): Promise<RequestResults[M]> {
    const socket = this.#socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      return Promise.reject(
        new RpcError(ClientErrorCode.Network, 'Not connected to the server. Reload the page to reconnect.'),
      );
    }
    const id = this.#nextId++;
    return new Promise<RequestResults[M]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new RpcError(ClientErrorCode.Timeout, `The server did not answer (${method}). Try again.`));
      }, this.#timeoutMs);
      this.#pending.set(id, { method, resolve: resolve as (r: unknown) => void, reject, timer });
      socket.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  }

  /** Calls `listener` for each notification `method`; returns the function that unsubscribes. */
  on<N extends NotificationMethod>(method: N, listener: Listener<N>): () => void {
    let set = this.#listeners.get(method);
    if (!set) this.#listeners.set(method, (set = new Set()));
    const entry = listener as (params: never) => void;
    set.add(entry);
    return () => set.delete(entry);
  }

  /** Calls `listener` with a reason when the socket closes by itself; returns the unsubscriber. */
  onClose(listener: (reason: string) => void): () => void {
    this.#closeListeners.add(listener);
    return () => this.#closeListeners.delete(listener);
  }

  #teardown(reason: string): void {
    const socket = this.#socket;
    this.#socket = undefined;
    this.#rejectOpened?.(new RpcError(ClientErrorCode.Network, reason));
    this.#rejectOpened = undefined;
    this.#failPending(reason);
    if (socket && socket.readyState < WebSocket.CLOSING) socket.close(1000, 'bye');
  }

  #failPending(reason: string): void {
    for (const [id, p] of this.#pending) {
      clearTimeout(p.timer);
      this.#pending.delete(id);
      p.reject(new RpcError(ClientErrorCode.Network, `${reason} (${p.method} did not finish.)`));
    }
  }

  #setState(state: SignallingState): void {
    this.#state = state;
    this.#host.requestUpdate();
  }

  #onMessage(data: unknown): void {
    let message: unknown;
    try {
      message = JSON.parse(String(data));
    } catch {
      console.warn('signalling: a message that is not JSON', data);
      return;
    }
    if (!isObject(message) || message.jsonrpc !== '2.0') {
      console.warn('signalling: not a JSON-RPC 2.0 message', message);
      return;
    }
    if (typeof message.method === 'string') {
      this.#dispatch(message.method as NotificationMethod, message.params);
      return;
    }
    if (typeof message.id !== 'number') {
      // an error the server could not tie to a request (e.g. a frame it could not parse)
      if (isObject(message.error)) console.warn('signalling: server error', message.error);
      return;
    }
    const pending = this.#pending.get(message.id);
    if (!pending) return; // timed out already
    this.#pending.delete(message.id);
    clearTimeout(pending.timer);
    if (isObject(message.error)) {
      const { code, message: text } = message.error;
      pending.reject(
        new RpcError(
          typeof code === 'number' ? code : ClientErrorCode.BadResponse,
          typeof text === 'string' ? text : 'The server refused the request.',
        ),
      );
    } else if ('result' in message) {
      pending.resolve(message.result);
    } else {
      pending.reject(new RpcError(ClientErrorCode.BadResponse, 'The server sent an unexpected answer.'));
    }
  }

  #dispatch(method: NotificationMethod, params: unknown): void {
    const set = this.#listeners.get(method);
    if (!set || !isObject(params)) return;
    for (const listener of [...set]) {
      try {
        listener(params as never);
      } catch (err) {
        console.error(`signalling: the ${method} listener failed`, err);
      }
    }
  }
}

/**
 * The signalling socket of one page (JSON-RPC 2.0 over the WebSocket at `/ws`,
 * https://www.jsonrpc.org/specification; methods in src/protocol/ and doc/protocol.md).
 * Opens when its host connects and closes when the host disconnects. A socket that closes by itself
 * (network change, server restart, sleep) is opened again with backoff — 250 ms doubling to 8 s,
 * ±25 % jitter, without limit while the page is open, and at once on the window's `online` event.
 * The server ties room membership and media to the socket, so a new socket means authenticating
 * and joining again: the owner of the page does that on {@link SignallingController.onReopen}.
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

/**
 * `connecting` → `open`; a socket that closes by itself → `reconnecting` (until one opens again) →
 * `open`; `close()` → `closed`; `connect()` starts over.
 */
export type SignallingState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

/** First delay before opening a lost socket again, ms; doubles with each failed try. */
const RECONNECT_MIN_MS = 250;
/** Longest delay between two tries, ms. */
const RECONNECT_MAX_MS = 8_000;

/** The delay before try `attempt` (1-based): RECONNECT_MIN_MS doubling up to RECONNECT_MAX_MS, ±25 %. */
function backoffMs(attempt: number): number {
  const base = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** Math.min(attempt - 1, 10));
  return Math.round(base * (0.75 + Math.random() * 0.5));
}

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

/** A typed JSON-RPC client on one WebSocket, owned by a Lit element; reconnects by itself. */
export class SignallingController implements ReactiveController {
  readonly #host: ReactiveControllerHost;
  readonly #url: string;
  readonly #timeoutMs: number;
  readonly #pending = new Map<number, Pending>();
  readonly #listeners = new Map<NotificationMethod, Set<(params: never) => void>>();
  readonly #closeListeners = new Set<(reason: string) => void>();
  readonly #reopenListeners = new Set<() => void>();
  #socket: WebSocket | undefined;
  #opened!: Promise<void>;
  #resolveOpened: (() => void) | undefined;
  #rejectOpened: ((err: RpcError) => void) | undefined;
  #nextId = 1;
  #state: SignallingState = 'idle';
  /** Whether a socket of this run (since `connect()`) was open: the next open is then a reopen. */
  #wasOpen = false;
  /** Tries since the socket was lost (0 while open). */
  #attempt = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #retryAt: number | undefined;

  constructor(host: ReactiveControllerHost, options: SignallingOptions = {}) {
    this.#host = host;
    this.#url = options.url ?? defaultUrl();
    this.#timeoutMs = options.timeoutMs ?? 15_000;
    this.#newOpened();
    this.#rejectOpened?.(new RpcError(ClientErrorCode.Network, 'Not connected.'));
    host.addController(this);
  }

  get state(): SignallingState {
    return this.#state;
  }

  /** While `reconnecting`: the tries made so far since the socket was lost (the one under way included). */
  get attempt(): number {
    return this.#attempt;
  }

  /** While `reconnecting` and waiting: when the next try starts (ms since the epoch); else undefined. */
  get retryAt(): number | undefined {
    return this.#retryAt;
  }

  hostConnected(): void {
    window.addEventListener('online', this.#onOnline);
    this.connect();
  }

  hostDisconnected(): void {
    window.removeEventListener('online', this.#onOnline);
    this.close();
  }

  /** Opens a new socket (closing the current one). `opened` settles when it is open or closed for good. */
  connect(): void {
    this.#teardown('Reconnecting.');
    this.#wasOpen = false;
    this.#attempt = 0;
    this.#state = 'connecting';
    this.#newOpened();
    this.#open();
  }

  /** While `reconnecting`: tries now instead of waiting for the next try. */
  retryNow(): void {
    if (this.#state !== 'reconnecting' || this.#retryTimer === undefined) return;
    this.#clearRetry();
    this.#open();
  }

  /**
   * Resolves once a socket is open; rejects when `close()` or `connect()` ends this run first. While
   * reconnecting it waits for the next socket.
   */
  get opened(): Promise<void> {
    return this.#opened;
  }

  /** Closes the socket and stops reconnecting; pending requests fail. Idempotent. */
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
        new RpcError(
          ClientErrorCode.Network,
          'Not connected to the server. Reconnecting by itself: try again in a moment.',
        ),
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

  /**
   * Calls `listener` with a reason when the open socket closes by itself (reconnecting starts);
   * returns the unsubscriber. Requests under way have failed by then.
   */
  onClose(listener: (reason: string) => void): () => void {
    this.#closeListeners.add(listener);
    return () => this.#closeListeners.delete(listener);
  }

  /**
   * Calls `listener` when a new socket opened after one was lost. The server knows nothing of the
   * old one's login and room: authenticate and join again. Returns the unsubscriber.
   */
  onReopen(listener: () => void): () => void {
    this.#reopenListeners.add(listener);
    return () => this.#reopenListeners.delete(listener);
  }

  /** A pending `opened` for the next socket to settle. */
  #newOpened(): void {
    this.#opened = new Promise<void>((resolve, reject) => {
      this.#resolveOpened = resolve;
      this.#rejectOpened = reject;
    });
    this.#opened.catch(() => undefined); // callers of `opened` see the rejection; nobody else needs to
  }

  #open(): void {
    const socket = new WebSocket(this.#url);
    this.#socket = socket;
    if (this.#state === 'reconnecting') this.#attempt++;
    this.#setState(this.#attempt > 0 ? 'reconnecting' : 'connecting');
    socket.addEventListener('open', () => {
      if (this.#socket !== socket) return;
      const reopened = this.#wasOpen;
      this.#wasOpen = true;
      this.#attempt = 0;
      this.#resolveOpened?.();
      this.#resolveOpened = undefined;
      this.#rejectOpened = undefined;
      this.#setState('open');
      if (reopened) this.#emit(this.#reopenListeners, (listener) => listener());
    });
    socket.addEventListener('close', (event) => this.#onSocketClosed(socket, event));
    socket.addEventListener('message', (event) => this.#onMessage(event.data));
  }

  /** The socket closed without the page asking: requests fail, and the next try is scheduled. */
  #onSocketClosed(socket: WebSocket, event: CloseEvent): void {
    if (this.#socket !== socket) return;
    this.#socket = undefined;
    const reason = event.reason || 'The connection to the server was lost.';
    this.#failPending(reason);
    const wasOpen = this.#state === 'open';
    // the first try after a loss is at once (a server restart or a blip is usually over by then)
    if (wasOpen) {
      this.#newOpened(); // `opened` now waits for the next socket
      this.#attempt = 0;
    }
    const delay = wasOpen ? 0 : backoffMs(Math.max(this.#attempt, 1));
    this.#retryAt = Date.now() + delay;
    this.#retryTimer = setTimeout(() => {
      this.#clearRetry();
      this.#open();
    }, delay);
    this.#setState('reconnecting');
    if (wasOpen) this.#emit(this.#closeListeners, (listener) => listener(reason));
  }

  readonly #onOnline = (): void => this.retryNow();

  #clearRetry(): void {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#retryAt = undefined;
  }

  #emit<L>(listeners: Set<L>, call: (listener: L) => void): void {
    for (const listener of [...listeners]) {
      try {
        call(listener);
      } catch (err) {
        console.error('signalling: a listener failed', err);
      }
    }
  }

  #teardown(reason: string): void {
    this.#clearRetry();
    const socket = this.#socket;
    this.#socket = undefined;
    this.#rejectOpened?.(new RpcError(ClientErrorCode.Network, reason));
    this.#rejectOpened = undefined;
    this.#resolveOpened = undefined;
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

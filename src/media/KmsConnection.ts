/**
 * The one connection from Theia to Kurento Media Server, and the only importer of kurento-client.
 *
 * kurento-client 7.3.0 is treated as disposable (shared/kms-protocol/README.md, pitfalls 1 and 4):
 * - every call passes a node-style callback, so a KMS error rejects (the promise API resolves
 *   `undefined` on errors), and every call has a timeout (the client has none);
 * - media objects are passed to KMS by id, never as objects (pitfall 2);
 * - the reconnecting socket's `error` events are caught, so a lost KMS cannot crash the process;
 * - a lost KMS (socket closed, or the heartbeat unanswered) is reported once with `lost`, the client
 *   is thrown away, and a fresh client is built until KMS answers again (`ready`): first after
 *   100 ms, then doubling up to `reconnectMs`, so a restarted KMS is found again within a second;
 * - kurento-client's client and media objects are thenables: a promise resolved with one, or an
 *   `await` of one, hands back a partial copy (without `_re`, with a shared-then-diverging event
 *   table). Theia never lets one be assimilated: the client stays inside this class and every
 *   media object travels in a plain KmsObject wrapper;
 * - a subscribe or unsubscribe that fails is emitted as `error` on the media object, which would
 *   crash the process unhandled; every KmsObject listens for it.
 *
 * On every (re)connection, before `ready`, pipelines that this app instance left in KMS (named
 * `theia/<instanceId>/…`) are released: no live survives a restart or a KMS loss, so they are leaks.
 */
import { EventEmitter } from 'node:events';
import kurentoClient, {
  type KurentoCallback,
  type KurentoClientInstance,
  type KurentoMediaObject,
  type KurentoRpcError,
} from 'kurento-client';
import { MediaError, MediaUnavailableError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { IceCandidateInit } from '../protocol/index.js';
import { KmsObject } from './KmsObject.js';

export type KmsState = 'connecting' | 'ready' | 'closed';

/** The first reconnection attempt after KMS went away, ms (then doubling up to reconnectMs). */
const FIRST_RETRY_MS = 100;

export interface KmsConnectionEvents {
  /** Connected (again): calls work. */
  ready: [];
  /** The connection was lost; every object made before is gone for Theia. */
  lost: [reason: Error];
}

export interface KmsConnectionOptions {
  /** e.g. ws://127.0.0.1:8888/kurento */
  uri: string;
  /** ms after which any call fails with MediaUnavailableError */
  callTimeoutMs: number;
  /** ms between liveness probes (ServerManager.getInfo) */
  heartbeatMs: number;
  /** ms between attempts to reach a lost KMS */
  reconnectMs: number;
  /** Prefix of the names of this app's pipelines: `theia/<instanceId>/` */
  instanceId: string;
  log: Logger;
}

/** Converts kurento-client's error to a MediaError carrying the KMS code (e.g. 40201 SDP_PARSE_ERROR). */
function toMediaError(operation: string, err: unknown): MediaError {
  const e = err as KurentoRpcError;
  const detail = typeof e?.message === 'string' ? e.message : String(err);
  return new MediaError(`The media server refused ${operation}: ${detail}`, { kmsCode: e?.code, cause: err });
}

/** `message (cause message)`: a one-line account of a connection failure, for logs. */
function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? err.cause.message : undefined;
  return cause && cause !== err.message ? `${err.message} (${cause})` : err.message;
}

export class KmsConnection extends EventEmitter<KmsConnectionEvents> {
  readonly #opts: KmsConnectionOptions;
  readonly #log: Logger;
  #state: KmsState = 'connecting';
  #client: KurentoClientInstance | undefined;
  #serverManager: KmsObject | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #retry: NodeJS.Timeout | undefined;
  /** Rejecters of calls in flight, failed at once when the connection is lost. */
  readonly #pending = new Set<(err: Error) => void>();
  /** Releases in flight, awaited by `drain()` at shutdown. */
  readonly #releasing = new Set<Promise<void>>();
  /** KMS being down was logged already: further failed attempts log at debug level only. */
  #downReported = false;
  /** Delay before the next attempt to reach KMS, ms: short at first, doubling up to reconnectMs. */
  #retryDelayMs: number;

  private constructor(opts: KmsConnectionOptions) {
    super();
    this.#opts = opts;
    this.#log = opts.log;
    this.#retryDelayMs = KmsConnection.#firstRetryMs(opts);
  }

  /** A KMS that restarts answers again within a second: try again soon, then back off. */
  static #firstRetryMs(opts: KmsConnectionOptions): number {
    return Math.min(FIRST_RETRY_MS, opts.reconnectMs);
  }

  /**
   * Connects to KMS. Resolves after the first attempt whether or not KMS answered: when it did not,
   * the state stays `connecting` and attempts go on in the background. Never throws for an
   * unreachable KMS.
   */
  static async create(opts: KmsConnectionOptions): Promise<KmsConnection> {
    const kms = new KmsConnection(opts);
    await kms.#attempt();
    return kms;
  }

  get state(): KmsState {
    return this.#state;
  }

  /** `theia/<instanceId>/`: the start of the name of every pipeline this app creates. */
  get pipelinePrefix(): string {
    return `theia/${this.#opts.instanceId}/`;
  }

  // --- connection lifecycle ------------------------------------------------------------------

  async #attempt(): Promise<void> {
    this.#retry = undefined;
    if (this.#state === 'closed') return;
    let client: KurentoClientInstance | undefined;
    try {
      const [opened] = await this.#open(); // boxed: a client itself would be assimilated into a copy
      client = opened;
      this.#client = opened; // the calls below need it; the state is not 'ready' yet
      this.#serverManager = await this.#call<KmsObject>(
        'getServerManager',
        (cb) => opened.getServerManager((err, sm) => cb(err, sm && this.#wrap(sm))),
        true,
      );
      await this.#sweep(this.#serverManager);
    } catch (err) {
      // one line when KMS goes down, not a stack per attempt: later failures are debug
      if (this.#downReported) this.#log.debug({ error: describeError(err) }, 'KMS still not reachable');
      else
        this.#log.warn(
          { uri: this.#opts.uri, error: describeError(err), retryMs: this.#opts.reconnectMs },
          'KMS not reachable; retrying',
        );
      this.#downReported = true;
      if (client) this.#dispose(client);
      this.#client = undefined;
      this.#scheduleRetry();
      return;
    }
    if ((this.#state as KmsState) === 'closed') {
      this.#dispose(client); // close() was called while connecting
      return;
    }
    this.#watch(client);
    this.#state = 'ready';
    this.#heartbeat = setInterval(() => this.#probe(client), this.#opts.heartbeatMs);
    this.#heartbeat.unref();
    this.#log.info({ uri: this.#opts.uri }, 'connected to KMS');
    this.#downReported = false;
    this.#retryDelayMs = KmsConnection.#firstRetryMs(this.#opts);
    this.emit('ready');
  }

  /** Opens a client; resolves with it in a one-element array (see the class comment: thenables). */
  #open(): Promise<[KurentoClientInstance]> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const options = {
        failAfter: 1,
        request_timeout: this.#opts.callTimeoutMs,
        // kurento-jsonrpc keeps every answer this long for de-duplication (default 20 s), with a timer
        response_timeout: 1000,
        duplicates_timeout: 1000,
      };
      const client = kurentoClient(this.#opts.uri, options, (err) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(new MediaUnavailableError(undefined, err));
        else resolve([client]);
      });
      // pitfall 4: reconnect-core emits 'error' for refused connections; unhandled, it kills the process
      client._re.on('error', (err: Error) =>
        this.#log.debug({ error: describeError(err) }, 'KMS socket error'),
      );
      client.on('error', (err: Error) =>
        this.#log.debug({ error: describeError(err) }, 'kurento-client error'),
      );
      // reconnect-core listens for only the first 'error' of each socket stream; a second one (e.g.
      // ECONNRESET on a write after KMS vanished) would be unhandled and kill the process
      const guard = (con: EventEmitter | undefined): void => {
        if (con && !con.listeners('error').includes(this.#onSocketError))
          con.on('error', this.#onSocketError);
      };
      guard((client._re as unknown as { _connection?: EventEmitter })._connection);
      client._re.on('connect', guard);
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        this.#dispose(client);
        reject(
          new MediaUnavailableError(`KMS did not accept a connection within ${this.#opts.callTimeoutMs} ms.`),
        );
      }, this.#opts.callTimeoutMs);
    });
  }

  readonly #onSocketError = (err: Error): void =>
    this.#log.debug({ error: describeError(err) }, 'KMS socket error');

  #watch(client: KurentoClientInstance): void {
    const lost = (why: string) => () => {
      if (this.#client === client) this.#lose(new Error(why));
    };
    client._re.on('disconnect', lost('the connection to KMS closed'));
    client.on('disconnect', lost('the connection to KMS failed'));
  }

  #probe(client: KurentoClientInstance): void {
    const sm = this.#serverManager;
    if (this.#client !== client || !sm) return;
    this.invoke(sm, 'getInfo').catch((err: unknown) => {
      if (this.#client === client) this.#lose(new Error('KMS did not answer the heartbeat', { cause: err }));
    });
  }

  #lose(reason: Error): void {
    if (this.#state !== 'ready') return;
    this.#log.error(
      { uri: this.#opts.uri, error: describeError(reason), retryMs: this.#retryDelayMs },
      'lost KMS; reconnecting',
    );
    this.#downReported = true;
    this.#state = 'connecting';
    clearInterval(this.#heartbeat);
    if (this.#client) this.#dispose(this.#client);
    this.#client = undefined;
    this.#serverManager = undefined;
    this.#failPending(
      new MediaUnavailableError('The media server went away. Try again in a moment.', reason),
    );
    this.emit('lost', reason);
    this.#scheduleRetry();
  }

  #scheduleRetry(): void {
    if (this.#state === 'closed' || this.#retry) return;
    this.#retry = setTimeout(() => void this.#attempt(), this.#retryDelayMs);
    this.#retry.unref();
    this.#retryDelayMs = Math.min(this.#retryDelayMs * 2, this.#opts.reconnectMs);
  }

  /**
   * Resolves once connected: at once when ready, else when the reconnection in progress succeeds.
   * @throws MediaUnavailableError after `timeoutMs` (a KMS that stays away), or when closed.
   */
  whenReady(timeoutMs: number = this.#opts.callTimeoutMs): Promise<void> {
    if (this.#state === 'ready') return Promise.resolve();
    if (this.#state === 'closed')
      return Promise.reject(new MediaUnavailableError('The app is shutting down.'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('ready', onReady);
        reject(new MediaUnavailableError());
      }, timeoutMs);
      timer.unref();
      const onReady = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.once('ready', onReady);
    });
  }

  /** Stops a client for good: no reconnection, socket closed (close() alone waits for answers that may never come). */
  #dispose(client: KurentoClientInstance): void {
    try {
      client._re.reconnect = false;
      client.close();
      (client._re as unknown as { disconnect(): void }).disconnect();
    } catch (err) {
      this.#log.debug({ err }, 'closing a kurento client failed');
    }
  }

  #failPending(err: Error): void {
    const pending = [...this.#pending];
    this.#pending.clear();
    for (const reject of pending) reject(err);
  }

  /** Releases pipelines whose name starts with `pipelinePrefix`: leftovers of an earlier run. */
  async #sweep(serverManager: KmsObject): Promise<void> {
    const pipelines = await this.#call<KmsObject[]>(
      'getPipelines',
      (cb) =>
        (
          serverManager.proxy as unknown as { getPipelines(cb: KurentoCallback<KurentoMediaObject[]>): void }
        ).getPipelines((err, list) =>
          cb(
            err,
            (list ?? []).map((p) => this.#wrap(p)),
          ),
        ),
      true,
    );
    let released = 0;
    for (const p of pipelines) {
      const name = await this.invoke<string>(p, 'getName', [], true).catch(() => '');
      if (!name.startsWith(this.pipelinePrefix)) continue;
      await this.invoke(p, 'release', [], true);
      released++;
    }
    if (released) this.#log.info({ released }, 'released pipelines left by an earlier run');
  }

  // --- calls -------------------------------------------------------------------------------------

  /**
   * Runs one kurento-client call with a node-style callback and a timeout. The callback's result
   * must not be a kurento-client proxy (wrap it in a KmsObject first).
   * @throws MediaError with the KMS code when KMS answers an error; MediaUnavailableError when not
   *   connected, on timeout, or when the connection is lost meanwhile.
   */
  #call<T>(what: string, start: (cb: KurentoCallback<T>) => unknown, duringConnect = false): Promise<T> {
    if (!this.#client || (this.#state !== 'ready' && !duringConnect)) {
      return Promise.reject(new MediaUnavailableError());
    }
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          fail(
            new MediaUnavailableError(
              `The media server did not answer ${what} within ${this.#opts.callTimeoutMs} ms.`,
            ),
          ),
        this.#opts.callTimeoutMs,
      );
      const fail = (err: Error): void => {
        clearTimeout(timer);
        this.#pending.delete(fail);
        reject(err);
      };
      this.#pending.add(fail);
      try {
        start((err, result) => {
          if (!this.#pending.has(fail)) return; // timed out or lost already
          clearTimeout(timer);
          this.#pending.delete(fail);
          if (err) reject(toMediaError(what, err));
          else resolve(result);
        });
      } catch (err) {
        fail(toMediaError(what, err));
      }
    });
  }

  #wrap(proxy: KurentoMediaObject): KmsObject {
    return new KmsObject(proxy, (err) =>
      this.#log.warn({ err, objectId: proxy.id }, 'KMS event subscription failed'),
    );
  }

  /**
   * Invokes `operation` on a KMS object, e.g. `invoke<string>(endpoint, 'processOffer', [sdp])`.
   * Arguments that name KMS objects must be ids (strings), never proxies (pitfall 2); results must
   * be plain values (strings, numbers, complex types), not media objects.
   * @throws like #call.
   */
  invoke<T = void>(
    object: KmsObject,
    operation: string,
    args: unknown[] = [],
    duringConnect = false,
  ): Promise<T> {
    return this.#call<T>(
      operation,
      (cb) => {
        const method = (object.proxy as unknown as Record<string, unknown>)[operation];
        if (typeof method !== 'function') throw new TypeError(`${object.id} has no method ${operation}`);
        return (method as (...a: unknown[]) => unknown).apply(object.proxy, [...args, cb]);
      },
      duringConnect,
    );
  }

  /**
   * A promise that rejects with MediaUnavailableError after the call timeout, for waits on KMS
   * events (which have no timeout of their own); the timer does not keep the process alive.
   */
  timeout(what: string): Promise<never> {
    return new Promise((_resolve, reject) => {
      setTimeout(
        () =>
          reject(
            new MediaUnavailableError(
              `The media server did not finish ${what} within ${this.#opts.callTimeoutMs} ms.`,
            ),
          ),
        this.#opts.callTimeoutMs,
      ).unref();
    });
  }

  /**
   * Creates a MediaPipeline named `theia/<instanceId>/<name>`, waiting up to the call timeout for a
   * reconnection in progress (a live started while KMS restarts goes ahead once it answers).
   * Throws like invoke.
   */
  async createPipeline(name: string): Promise<KmsObject> {
    await this.whenReady();
    const client = this.#client;
    const pipeline = await this.#call<KmsObject>('create MediaPipeline', (cb) =>
      client?.create('MediaPipeline', (err, p) => cb(err, p && this.#wrap(p))),
    );
    try {
      await this.invoke(pipeline, 'setName', [this.pipelinePrefix + name]);
    } catch (err) {
      this.release(pipeline);
      throw err;
    }
    return pipeline;
  }

  /**
   * Creates an element of `type` in `pipeline`; `params` are the kmd constructor params other than
   * `mediaPipeline`, with KMS objects given by id (e.g. `{ hub: composite.id }`). Throws like invoke.
   */
  create(pipeline: KmsObject, type: string, params: Record<string, unknown> = {}): Promise<KmsObject> {
    type Creator = {
      create(t: string, p: Record<string, unknown>, cb: KurentoCallback<KurentoMediaObject>): unknown;
    };
    return this.#call<KmsObject>(`create ${type}`, (cb) =>
      (pipeline.proxy as unknown as Creator).create(type, params, (err, element) =>
        cb(err, element && this.#wrap(element)),
      ),
    );
  }

  /** `source.connect(sink)`, the sink by id. Throws like invoke. */
  connect(source: KmsObject, sink: KmsObject): Promise<void> {
    return this.invoke(source, 'connect', [sink.id]);
  }

  /** Hands a browser's ICE candidate to a WebRtcEndpoint (as the kurento IceCandidate complex type). */
  addIceCandidate(endpoint: KmsObject, c: IceCandidateInit): Promise<void> {
    const candidate = kurentoClient.getComplexType('IceCandidate')({
      candidate: c.candidate,
      sdpMid: c.sdpMid ?? '',
      sdpMLineIndex: c.sdpMLineIndex ?? 0,
    });
    return this.invoke(endpoint, 'addIceCandidate', [candidate]);
  }

  /**
   * Releases a KMS object (and, for a pipeline, everything in it). Synchronous to call: failures are
   * logged, never thrown; `drain()` waits for releases in flight.
   */
  release(object: KmsObject): void {
    if (this.#state !== 'ready') return; // a lost KMS took the object with it; a reconnect sweeps leftovers
    object.forgetEvents();
    const done: Promise<void> = this.invoke(object, 'release')
      .catch((err: unknown) => this.#log.warn({ err, objectId: object.id }, 'release failed'))
      .finally(() => this.#releasing.delete(done));
    this.#releasing.add(done);
  }

  /** Waits for releases in flight (each bounded by the call timeout). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.#releasing]);
  }

  /** Stops reconnecting and closes the connection. Idempotent; call `drain()` first to let releases land. */
  close(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    clearInterval(this.#heartbeat);
    clearTimeout(this.#retry);
    if (this.#client) this.#dispose(this.#client);
    this.#client = undefined;
    this.#failPending(new MediaUnavailableError('The app is shutting down.'));
  }
}

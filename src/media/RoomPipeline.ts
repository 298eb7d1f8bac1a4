/**
 * The Kurento media graph of one live (doc/media-graph.md): one MediaPipeline; the host's
 * WebRtcEndpoint is the program feed (solo); each viewer has a receive-only WebRtcEndpoint
 * connected from the program. Replacing the publisher reconnects every viewer to the new program
 * source; viewers never renegotiate.
 */
import { EventEmitter } from 'node:events';
import { InvalidStateError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { CandidateListener, LiveMedia, LiveMediaEvents, MediaCloseReason } from '../rooms/media.js';
import type { IceCandidateInit } from '../signalling/protocol.js';
import type { KmsConnection, KmsObject } from './KmsConnection.js';
import { WebRtcConnection } from './WebRtcConnection.js';

type Events = { [E in keyof LiveMediaEvents]: Parameters<LiveMediaEvents[E]> } & { '@close': [] };

export class RoomPipeline extends EventEmitter<Events> implements LiveMedia {
  readonly roomId: string;
  readonly liveId: string;
  readonly #kms: KmsConnection;
  readonly #pipeline: KmsObject;
  readonly #log: Logger;
  readonly #connections = new Map<string, WebRtcConnection>();
  /** Keys of receive-only connections. */
  readonly #viewers = new Set<string>();
  /** The program source each viewer is connected from. */
  readonly #fedBy = new Map<string, KmsObject>();
  #publisherKey: string | undefined;
  /** The program feed: what viewers see (solo: the publisher's endpoint, once negotiated). */
  #program: KmsObject | undefined;
  #closed = false;

  private constructor(
    kms: KmsConnection,
    pipeline: KmsObject,
    ids: { roomId: string; liveId: string },
    log: Logger,
  ) {
    super();
    this.#kms = kms;
    this.#pipeline = pipeline;
    this.roomId = ids.roomId;
    this.liveId = ids.liveId;
    this.#log = log.child({ roomId: ids.roomId, liveId: ids.liveId, pipelineId: pipeline.id });
    pipeline.on('Error', (event: { description?: string; errorCode?: number }) =>
      this.#log.warn({ event }, 'KMS reported an error on the pipeline'),
    );
  }

  /**
   * Creates the MediaPipeline of a live, named `theia/<instanceId>/<roomId>/<liveId>`.
   * @throws MediaUnavailableError, MediaError.
   */
  static async create(
    kms: KmsConnection,
    ids: { roomId: string; liveId: string },
    log: Logger,
  ): Promise<RoomPipeline> {
    const pipeline = await kms.createPipeline(`${ids.roomId}/${ids.liveId}`);
    return new RoomPipeline(kms, pipeline, ids, log);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The pipeline's KMS id. */
  get pipelineId(): string {
    return this.#pipeline.id;
  }

  #fresh(key: string): WebRtcConnection {
    this.#assertOpen();
    const existing = this.#connections.get(key);
    if (existing && !existing.started) return existing; // holds candidates that came before the offer
    if (existing) this.#drop(key, existing);
    const conn = new WebRtcConnection(this.#kms, key, this.#log);
    this.#connections.set(key, conn);
    return conn;
  }

  async publish(key: string, sdpOffer: string, onCandidate: CandidateListener): Promise<string> {
    const conn = this.#fresh(key);
    try {
      const answer = await conn.negotiate(this.#pipeline, sdpOffer, onCandidate);
      this.#assertOpen();
      if (this.#connections.get(key) !== conn)
        throw new InvalidStateError('A newer offer replaced this one.');
      this.#publisherKey = key;
      this.#program = conn.endpoint;
      const fed = await Promise.allSettled([...this.#viewers].map((v) => this.#feed(v)));
      for (const r of fed)
        if (r.status === 'rejected') this.#log.warn({ err: r.reason }, 'could not feed a viewer');
      this.#log.info({ key, viewers: this.#viewers.size }, 'publisher connected');
      return answer;
    } catch (err) {
      this.#drop(key, conn);
      throw err;
    }
  }

  async receive(key: string, sdpOffer: string, onCandidate: CandidateListener): Promise<string> {
    const conn = this.#fresh(key);
    this.#viewers.add(key);
    try {
      return await conn.negotiate(this.#pipeline, sdpOffer, onCandidate, () => this.#feed(key));
    } catch (err) {
      this.#drop(key, conn);
      throw err;
    }
  }

  /**
   * Connects the program to viewer `key`, unless there is no program or no endpoint yet, or it is
   * fed by this program already. Runs from both sides (a viewer's endpoint appearing, a publisher
   * going on air); the check and the mark happen before any await, so each pair connects once.
   */
  async #feed(key: string): Promise<void> {
    const program = this.#program;
    const sink = this.#connections.get(key)?.endpoint;
    if (!program || !sink || this.#fedBy.get(key) === program) return;
    this.#fedBy.set(key, program);
    try {
      await this.#kms.connect(program, sink);
    } catch (err) {
      if (this.#fedBy.get(key) === program) this.#fedBy.delete(key);
      throw err;
    }
  }

  addIceCandidate(key: string, candidate: IceCandidateInit): void {
    if (this.#closed) return;
    let conn = this.#connections.get(key);
    if (!conn) {
      conn = new WebRtcConnection(this.#kms, key, this.#log);
      this.#connections.set(key, conn);
    }
    conn.addIceCandidate(candidate);
  }

  disconnect(key: string): void {
    const conn = this.#connections.get(key);
    if (conn) this.#drop(key, conn);
  }

  #drop(key: string, conn: WebRtcConnection): void {
    conn.close();
    if (this.#connections.get(key) !== conn) return; // replaced already
    this.#connections.delete(key);
    this.#viewers.delete(key);
    this.#fedBy.delete(key);
    if (this.#publisherKey === key) {
      this.#publisherKey = undefined;
      this.#program = undefined;
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new InvalidStateError('This live has ended.');
  }

  /** Releases the MediaPipeline (and with it every element in it). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const conn of this.#connections.values()) conn.close(false); // released with the pipeline
    this.#connections.clear();
    this.#viewers.clear();
    this.#fedBy.clear();
    this.#program = undefined;
    this.#kms.release(this.#pipeline);
    this.#log.debug('pipeline released');
    this.emit('@close');
  }

  /** KMS lost or failed: nothing to release; tells the room with `close`. */
  abort(reason: MediaCloseReason): void {
    if (this.#closed) return;
    this.close();
    this.emit('close', reason);
  }
}

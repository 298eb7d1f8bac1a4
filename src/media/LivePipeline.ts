/**
 * The Kurento media graph of one live (doc/media-graph.md): one MediaPipeline; a StageFeed per
 * stage member publishing; the program (what viewers get) is the first feed alone or, with two or
 * more feeds on the stage, a Mixer's output; each viewer's receive-only WebRtcEndpoint is a sink of
 * the program switch, and each stage member watching another is a sink of that member's feed
 * switch. Every change moves sinks by `connect`; nobody renegotiates.
 */
import { EventEmitter } from 'node:events';
import { InvalidStateError } from '../errors.js';
import type { Logger } from '../logger.js';
import type {
  CandidateListener,
  EgressHandle,
  LiveMedia,
  LiveMediaEvents,
  MediaCloseReason,
} from '../rooms/media.js';
import type { IceCandidateInit, Layout } from '../protocol/index.js';
import type { FaceOverlay } from './elements/FaceOverlayFilter.js';
import type { MediaElement } from './elements/MediaElement.js';
import { RtpEndpoint } from './elements/RtpEndpoint.js';
import { EgressPort } from './EgressPort.js';
import type { KmsConnection } from './KmsConnection.js';
import type { KmsObject } from './KmsObject.js';
import { Mixer } from './Mixer.js';
import type { MixLimits } from './mixLayout.js';
import { ProgramSwitch } from './ProgramSwitch.js';
import { StageFeed, type FeedSource } from './StageFeed.js';
import { WebRtcConnection } from './WebRtcConnection.js';

type Events = { [E in keyof LiveMediaEvents]: Parameters<LiveMediaEvents[E]> } & { '@close': [] };

/** What every live's graph is built with (from config). */
export interface LivePipelineOptions {
  /** Caps of the grid mix (MIX_WIDTH, MIX_HEIGHT, MIX_FPS). */
  mix: MixLimits;
  /**
   * The image face detection draws, at the URL KMS fetches it from (MEDIA_PUBLIC_URL), and where;
   * asked for when a filter is made (the app's own address is known only once it listens).
   */
  faceOverlay: () => FaceOverlay;
}

export class LivePipeline extends EventEmitter<Events> implements LiveMedia {
  readonly roomId: string;
  readonly liveId: string;
  readonly #kms: KmsConnection;
  readonly #pipeline: KmsObject;
  readonly #options: LivePipelineOptions;
  readonly #log: Logger;
  /** Every browser connection, contributions and receivers alike, by connection id. */
  readonly #connections = new Map<string, WebRtcConnection>();
  readonly #feeds = new Map<string, StageFeed>();
  /** What each feed feeds (other members, mixer ports); kept across a member publishing again. */
  readonly #outs = new Map<string, ProgramSwitch>();
  /** What viewers get. */
  readonly #program: ProgramSwitch;
  /** The switch each receive-only connection is a sink of. */
  readonly #receivers = new Map<string, ProgramSwitch>();
  /** RTP outputs of the program (EgressPort closes itself; the set is for close()). */
  readonly #egress = new Set<EgressPort>();
  #stage: { feedIds: readonly string[]; layout: Layout } = { feedIds: [], layout: 'grid' };
  #faceOverlay = false;
  #mixer: Mixer | undefined;
  /** Program changes run one at a time, in order. */
  #reconciling: Promise<void> = Promise.resolve();
  #closed = false;

  private constructor(
    kms: KmsConnection,
    pipeline: KmsObject,
    ids: { roomId: string; liveId: string },
    options: LivePipelineOptions,
    log: Logger,
  ) {
    super();
    this.#kms = kms;
    this.#pipeline = pipeline;
    this.#options = options;
    this.roomId = ids.roomId;
    this.liveId = ids.liveId;
    this.#log = log.child({ roomId: ids.roomId, liveId: ids.liveId, pipelineId: pipeline.id });
    this.#program = new ProgramSwitch(this.#log);
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
    options: LivePipelineOptions,
    log: Logger,
  ): Promise<LivePipeline> {
    const pipeline = await kms.createPipeline(`${ids.roomId}/${ids.liveId}`);
    return new LivePipeline(kms, pipeline, ids, options, log);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The pipeline's KMS id. */
  get pipelineId(): string {
    return this.#pipeline.id;
  }

  get program(): 'solo' | 'mix' | 'none' {
    if (this.#mixer) return 'mix';
    return this.#program.source ? 'solo' : 'none';
  }

  /** What viewers get now: a feed's output, a mixer's output port, or nothing yet. */
  get programSource(): MediaElement | undefined {
    return this.#program.source;
  }

  /** The current mix, while two or more stage feeds publish. */
  get mixer(): Mixer | undefined {
    return this.#mixer;
  }

  #outOf(feedId: string): ProgramSwitch {
    let out = this.#outs.get(feedId);
    if (!out) {
      out = new ProgramSwitch(this.#log.child({ feedId }));
      this.#outs.set(feedId, out);
    }
    return out;
  }

  #fresh(connectionId: string): WebRtcConnection {
    this.#assertOpen();
    const existing = this.#connections.get(connectionId);
    if (existing && !existing.started) return existing; // holds candidates that came before the offer
    if (existing) this.#drop(connectionId, existing);
    const conn = new WebRtcConnection(this.#kms, connectionId, this.#log);
    this.#connections.set(connectionId, conn);
    return conn;
  }

  async addFeed(
    feedId: string,
    connectionId: string,
    sdpOffer: string,
    onCandidate: CandidateListener,
    options: { complete?: boolean } = {},
  ): Promise<string> {
    const conn = this.#fresh(connectionId);
    try {
      const answer = await conn.negotiate(this.#pipeline, sdpOffer, onCandidate, undefined, options);
      this.#assertOpen();
      if (this.#connections.get(connectionId) !== conn)
        throw new InvalidStateError('A newer offer replaced this one.');
      const source = {
        key: connectionId,
        element: conn.endpoint!,
        close: (release: boolean) => conn.close(release),
      };
      await this.#putOnAir(feedId, source);
      return answer;
    } catch (err) {
      this.#drop(connectionId, conn);
      throw err;
    }
  }

  async addRtpFeed(feedId: string, sdpOffer: string): Promise<string> {
    this.#assertOpen();
    const endpoint = await RtpEndpoint.create(this.#kms, this.#pipeline);
    try {
      const answer = await endpoint.processOffer(sdpOffer);
      this.#assertOpen();
      const source = {
        key: `rtp:${feedId}`,
        element: endpoint,
        close: (release: boolean) => (release ? endpoint.release() : undefined),
      };
      await this.#putOnAir(feedId, source);
      return answer;
    } catch (err) {
      endpoint.release();
      throw err;
    }
  }

  /** Makes `source` feed `feedId` (filtered when face detection is on) and updates the program. */
  async #putOnAir(feedId: string, source: FeedSource): Promise<void> {
    const feed = new StageFeed(this.#kms, this.#pipeline, feedId, source, this.#outOf(feedId), this.#log);
    try {
      // filtered from its first frame on, when face detection is on
      if (this.#faceOverlay) await feed.setFaceOverlay(this.#options.faceOverlay());
      this.#assertOpen();
      const previous = this.#feeds.get(feedId);
      this.#feeds.set(feedId, feed);
      await feed.goOnAir();
      await this.#reconcile();
      if (previous && previous !== feed) this.#closeFeed(previous);
      this.#log.info({ feedId, source: source.key }, 'feed on air');
    } catch (err) {
      if (this.#feeds.get(feedId) === feed) this.#feeds.delete(feedId);
      feed.close(false); // the caller releases the endpoint
      throw err;
    }
  }

  async removeFeed(feedId: string): Promise<void> {
    const feed = this.#feeds.get(feedId);
    if (!feed) return;
    this.#feeds.delete(feedId);
    await this.#reconcile(); // the program leaves the feed before it is released
    this.#closeFeed(feed);
    this.#log.info({ feedId }, 'feed removed');
  }

  async receive(
    connectionId: string,
    sdpOffer: string,
    onCandidate: CandidateListener,
    from?: string,
  ): Promise<string> {
    const source = from === undefined ? this.#program : this.#outOf(from);
    const conn = this.#fresh(connectionId);
    this.#receivers.set(connectionId, source);
    try {
      return await conn.negotiate(this.#pipeline, sdpOffer, onCandidate, (endpoint) =>
        source.addSink(endpoint),
      );
    } catch (err) {
      this.#drop(connectionId, conn);
      throw err;
    }
  }

  addIceCandidate(connectionId: string, candidate: IceCandidateInit): void {
    if (this.#closed) return;
    let conn = this.#connections.get(connectionId);
    if (!conn) {
      conn = new WebRtcConnection(this.#kms, connectionId, this.#log);
      this.#connections.set(connectionId, conn);
    }
    conn.addIceCandidate(candidate);
  }

  disconnect(connectionId: string): void {
    for (const feed of this.#feeds.values()) {
      if (feed.source.key === connectionId) {
        this.removeFeed(feed.feedId).catch((err: unknown) =>
          this.#log.warn({ err, feedId: feed.feedId }, 'removing a feed failed'),
        );
        return;
      }
    }
    const conn = this.#connections.get(connectionId);
    if (conn) this.#drop(connectionId, conn);
  }

  async setStage(feedIds: readonly string[], layout: Layout): Promise<void> {
    this.#assertOpen();
    this.#stage = { feedIds: [...feedIds], layout };
    await this.#reconcile();
  }

  async setFaceOverlay(on: boolean): Promise<void> {
    this.#assertOpen();
    if (this.#faceOverlay === on) return;
    this.#faceOverlay = on;
    const overlay = on ? this.#options.faceOverlay() : undefined;
    await Promise.all([...this.#feeds.values()].map((feed) => feed.setFaceOverlay(overlay)));
    await this.#reconcile(); // a solo program is a feed's output, which just changed
  }

  async openEgress(sdpOffer: string): Promise<EgressHandle> {
    this.#assertOpen();
    const endpoint = await RtpEndpoint.create(this.#kms, this.#pipeline);
    try {
      const answer = await endpoint.processOffer(sdpOffer);
      this.#assertOpen();
      const port: EgressPort = new EgressPort(endpoint, answer, this.#program, this.#log, () =>
        this.#egress.delete(port),
      );
      this.#egress.add(port);
      await this.#program.addSink(endpoint);
      return port;
    } catch (err) {
      endpoint.release();
      throw err;
    }
  }

  /** Brings the mixer and the program in line with the stage and the feeds; one at a time. */
  #reconcile(): Promise<void> {
    const run = this.#reconciling.then(() => this.#reconcileNow());
    this.#reconciling = run.catch(() => undefined);
    return run;
  }

  async #reconcileNow(): Promise<void> {
    if (this.#closed) return;
    const onAir = this.#stage.feedIds.filter((id) => this.#feeds.has(id));
    const wanted = onAir.length >= 2 ? Mixer.key(this.#stage.layout, onAir) : undefined;
    const current = this.#mixer ? Mixer.key(this.#mixer.layout, this.#mixer.feedIds) : undefined;
    let retired: Mixer | undefined;
    if (wanted !== current) {
      retired = this.#mixer;
      this.#mixer = undefined;
      if (wanted) {
        try {
          const inputs = onAir.map((feedId) => ({ feedId, out: this.#outOf(feedId) }));
          const mixer = await Mixer.create(
            this.#kms,
            this.#pipeline,
            this.#stage.layout,
            inputs,
            this.#options.mix,
          );
          if (this.#closed) return mixer.close(false);
          this.#mixer = mixer;
          this.#log.info({ layout: mixer.layout, feeds: onAir }, 'mix on air');
        } catch (err) {
          // viewers keep the host alone rather than nothing
          this.#log.error({ err, layout: this.#stage.layout, feeds: onAir }, 'could not mix the stage');
        }
      }
    }
    // solo: the first stage member publishing, or any feed while no stage was set
    const solo = onAir.length > 0 ? this.#feeds.get(onAir[0]!) : this.#feeds.values().next().value;
    await this.#program.setSource(this.#mixer?.output ?? solo?.output);
    retired?.close();
  }

  #closeFeed(feed: StageFeed): void {
    feed.close();
    const conn = this.#connections.get(feed.source.key);
    if (conn?.endpoint === feed.source.element) this.#connections.delete(feed.source.key);
  }

  #drop(connectionId: string, conn: WebRtcConnection): void {
    conn.close();
    if (this.#connections.get(connectionId) !== conn) return; // replaced already
    this.#connections.delete(connectionId);
    const endpoint = conn.endpoint;
    const source = this.#receivers.get(connectionId);
    if (source && endpoint) source.removeSink(endpoint);
    this.#receivers.delete(connectionId);
  }

  #assertOpen(): void {
    if (this.#closed) throw new InvalidStateError('This live has ended.');
  }

  /** Releases the MediaPipeline (and with it every element in it). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const feed of this.#feeds.values()) feed.close(false); // released with the pipeline
    for (const conn of this.#connections.values()) conn.close(false);
    this.#mixer?.close(false);
    this.#mixer = undefined;
    for (const port of [...this.#egress]) port.close(false);
    this.#feeds.clear();
    this.#connections.clear();
    this.#receivers.clear();
    this.#outs.clear();
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

/**
 * An in-memory MediaService for unit tests of rooms/: records what the room logic asks of the
 * media layer (lives, feeds, stage, receivers, candidates) and can fail on demand. No KMS involved.
 */
import { EventEmitter } from 'node:events';
import { MediaError, MediaUnavailableError } from '../../src/errors.js';
import type {
  CandidateListener,
  EgressHandle,
  LiveMedia,
  LiveMediaEvents,
  MediaCloseReason,
  MediaService,
} from '../../src/rooms/media.js';
import type { IceCandidateInit, Layout } from '../../src/protocol/index.js';

type Events = { [E in keyof LiveMediaEvents]: Parameters<LiveMediaEvents[E]> };

/** One live's media, as the room logic drove it. */
export class MemoryLive extends EventEmitter<Events> implements LiveMedia {
  closed = false;
  /** Feed id → the connection carrying it. */
  readonly feeds = new Map<string, string>();
  /** Receive-only connection ids, and the feed each watches directly (undefined: the program). */
  readonly receivers = new Map<string, string | undefined>();
  readonly candidates = new Map<string, IceCandidateInit[]>();
  readonly candidateListeners = new Map<string, CandidateListener>();
  stage: { feedIds: readonly string[]; layout: Layout } = { feedIds: [], layout: 'grid' };
  faceOverlay = false;

  constructor(
    readonly roomId: string,
    readonly liveId: string,
    private readonly service: MemoryMedia,
  ) {
    super();
  }

  /** Receive-only connections fed by the program. */
  get viewers(): Set<string> {
    return new Set([...this.receivers].filter(([, from]) => from === undefined).map(([id]) => id));
  }

  addFeed(
    feedId: string,
    connectionId: string,
    sdpOffer: string,
    onCandidate: CandidateListener,
  ): Promise<string> {
    this.#check(sdpOffer);
    this.feeds.set(feedId, connectionId);
    this.candidateListeners.set(connectionId, onCandidate);
    return Promise.resolve(`v=0\r\na=answer-for:${connectionId}\r\n`);
  }

  addRtpFeed(feedId: string, sdpOffer: string): Promise<string> {
    this.#check(sdpOffer);
    this.feeds.set(feedId, `rtp:${feedId}`);
    return Promise.resolve(`v=0\r\na=answer-for:rtp:${feedId}\r\n`);
  }

  removeFeed(feedId: string): Promise<void> {
    const connectionId = this.feeds.get(feedId);
    this.feeds.delete(feedId);
    if (connectionId) this.candidateListeners.delete(connectionId);
    return Promise.resolve();
  }

  receive(
    connectionId: string,
    sdpOffer: string,
    onCandidate: CandidateListener,
    from?: string,
  ): Promise<string> {
    this.#check(sdpOffer);
    this.receivers.set(connectionId, from);
    this.candidateListeners.set(connectionId, onCandidate);
    return Promise.resolve(`v=0\r\na=answer-for:${connectionId}\r\n`);
  }

  setStage(feedIds: readonly string[], layout: Layout): Promise<void> {
    if (this.closed) return Promise.reject(new Error('used after close'));
    this.stage = { feedIds: [...feedIds], layout };
    return Promise.resolve();
  }

  /** Egress outputs opened, by SDP offer, and whether each is closed. */
  readonly egress: Array<{ sdpOffer: string; handle: EgressHandle & { keyframes: number } }> = [];

  openEgress(sdpOffer: string): Promise<EgressHandle> {
    if (this.closed) return Promise.reject(new Error('used after close'));
    const handle = {
      closed: false,
      sdpAnswer: 'v=0\r\na=answer-for:egress\r\n',
      keyframes: 0,
      requestKeyframe(): Promise<void> {
        this.keyframes++;
        return Promise.resolve();
      },
      close(): void {
        this.closed = true;
      },
    };
    this.egress.push({ sdpOffer, handle });
    return Promise.resolve(handle);
  }

  setFaceOverlay(on: boolean): Promise<void> {
    if (this.closed) return Promise.reject(new Error('used after close'));
    this.faceOverlay = on;
    return Promise.resolve();
  }

  #check(sdpOffer: string): void {
    if (this.closed) throw new Error('used after close');
    if (this.service.failNextOffer) {
      this.service.failNextOffer = false;
      throw new MediaError('The media server could not use the SDP offer of your browser.', {
        kmsCode: 40201,
      });
    }
    if (!sdpOffer.startsWith('v=0')) throw new MediaError('bad offer', { kmsCode: 40201 });
  }

  addIceCandidate(connectionId: string, candidate: IceCandidateInit): void {
    const list = this.candidates.get(connectionId) ?? [];
    list.push(candidate);
    this.candidates.set(connectionId, list);
  }

  disconnect(connectionId: string): void {
    this.receivers.delete(connectionId);
    for (const [feedId, id] of this.feeds) if (id === connectionId) this.feeds.delete(feedId);
    this.candidateListeners.delete(connectionId);
  }

  close(): void {
    this.closed = true;
  }

  /** As KMS loss does: the media closes by itself. */
  abort(reason: MediaCloseReason): void {
    this.closed = true;
    this.emit('close', reason);
  }
}

export class MemoryMedia implements MediaService {
  readonly lives: MemoryLive[] = [];
  /** When set, createLive fails as with KMS down. */
  unavailable = false;
  failNextOffer = false;

  createLive(ids: { roomId: string; liveId: string }): Promise<LiveMedia> {
    if (this.unavailable) return Promise.reject(new MediaUnavailableError());
    const live = new MemoryLive(ids.roomId, ids.liveId, this);
    this.lives.push(live);
    return Promise.resolve(live);
  }

  /** Lives not closed. */
  get open(): MemoryLive[] {
    return this.lives.filter((l) => !l.closed);
  }
}

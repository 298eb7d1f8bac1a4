/**
 * An in-memory MediaService for unit tests of rooms/: records what the room logic asks of the
 * media layer (lives, publishers, viewers, candidates) and can fail on demand. No KMS involved.
 */
import { EventEmitter } from 'node:events';
import { MediaError, MediaUnavailableError } from '../../src/errors.js';
import type {
  CandidateListener,
  LiveMedia,
  LiveMediaEvents,
  MediaCloseReason,
  MediaService,
} from '../../src/rooms/media.js';
import type { IceCandidateInit } from '../../src/signalling/protocol.js';

type Events = { [E in keyof LiveMediaEvents]: Parameters<LiveMediaEvents[E]> };

/** One live's media, as the room logic drove it. */
export class MemoryLive extends EventEmitter<Events> implements LiveMedia {
  closed = false;
  publisher: string | undefined;
  readonly viewers = new Set<string>();
  readonly candidates = new Map<string, IceCandidateInit[]>();
  readonly candidateListeners = new Map<string, CandidateListener>();

  constructor(
    readonly roomId: string,
    readonly liveId: string,
    private readonly service: MemoryMedia,
  ) {
    super();
  }

  publish(key: string, sdpOffer: string, onCandidate: CandidateListener): Promise<string> {
    this.#check(sdpOffer);
    this.publisher = key;
    this.candidateListeners.set(key, onCandidate);
    return Promise.resolve(`v=0\r\na=answer-for:${key}\r\n`);
  }

  receive(key: string, sdpOffer: string, onCandidate: CandidateListener): Promise<string> {
    this.#check(sdpOffer);
    this.viewers.add(key);
    this.candidateListeners.set(key, onCandidate);
    return Promise.resolve(`v=0\r\na=answer-for:${key}\r\n`);
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

  addIceCandidate(key: string, candidate: IceCandidateInit): void {
    const list = this.candidates.get(key) ?? [];
    list.push(candidate);
    this.candidates.set(key, list);
  }

  disconnect(key: string): void {
    this.viewers.delete(key);
    if (this.publisher === key) this.publisher = undefined;
    this.candidateListeners.delete(key);
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

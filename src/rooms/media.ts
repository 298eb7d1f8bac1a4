/**
 * What the room logic needs from the media layer, and nothing more. media/ implements it on
 * Kurento; unit tests implement it in memory (test/support/MemoryMedia.ts).
 */
import type { EndReason, IceCandidateInit } from '../signalling/protocol.js';

/** Called with each ICE candidate the media server gathers for one WebRTC connection. */
export type CandidateListener = (candidate: IceCandidateInit) => void;

/** Why a live's media closed by itself (not through `close()`). */
export type MediaCloseReason = Extract<EndReason, 'mediaServerLost' | 'mediaError'>;

/** Events of a LiveMedia. */
export interface LiveMediaEvents {
  /** The media closed by itself (KMS lost, pipeline failed). Not emitted for `close()`. */
  close: (reason: MediaCloseReason) => void;
}

/**
 * The media graph of one live (one MediaPipeline in Kurento). WebRTC connections are named by
 * a `key` the caller chooses (one per peer and direction).
 */
export interface LiveMedia {
  readonly closed: boolean;
  /**
   * Makes `key` the live's publisher (the program feed, solo) from a browser's SDP offer and
   * returns the SDP answer. A previous publisher under the same key is replaced.
   * @throws MediaError when KMS rejects the offer; MediaUnavailableError when KMS is unreachable.
   */
  publish(key: string, sdpOffer: string, onCandidate: CandidateListener): Promise<string>;
  /** Adds a receive-only viewer connection fed by the program; returns the SDP answer. Throws like publish. */
  receive(key: string, sdpOffer: string, onCandidate: CandidateListener): Promise<string>;
  /** Hands a remote ICE candidate to the connection `key`; queued when it does not exist yet. */
  addIceCandidate(key: string, candidate: IceCandidateInit): void;
  /** Releases the connection `key`, if any. */
  disconnect(key: string): void;
  /** Releases everything the live holds in the media server. Idempotent. */
  close(): void;
  on<E extends keyof LiveMediaEvents>(event: E, listener: LiveMediaEvents[E]): this;
}

/** Creates lives' media graphs. */
export interface MediaService {
  /**
   * Creates the media graph for a new live.
   * @throws MediaUnavailableError when the media server cannot be reached.
   */
  createLive(ids: { roomId: string; liveId: string }): Promise<LiveMedia>;
}

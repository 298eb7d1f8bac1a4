/**
 * What the room logic needs from the media layer, and nothing more: feeds and a stage, never
 * endpoints (../shared/ARCHITECTURE.md, "The media layer, feed-based"). media/ implements it on
 * Kurento; unit tests implement it in memory (test/support/MemoryMedia.ts).
 */
import type { EndReason, IceCandidateInit, Layout } from '../protocol/index.js';

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
 * The media graph of one live (one MediaPipeline in Kurento). A feed is a stage member's
 * contribution, named by the caller (Theia uses the member's user id); a connection is one
 * browser peer connection, named by the caller too (one per participant and purpose). The program
 * is what viewers get: the first feed of the stage alone, or the stage mixed in its layout.
 */
export interface LiveMedia {
  readonly closed: boolean;
  /**
   * Makes connection `connectionId` the contribution `feedId` from a browser's SDP offer and
   * returns the SDP answer. A previous feed of the same id is replaced; whoever it fed is switched
   * to the new one without renegotiating.
   * With `complete`, the answer comes once the media server has gathered its ICE candidates and
   * carries them all, for peers that do not trickle (WHIP, RFC 9725).
   * @throws MediaError when KMS rejects the offer; MediaUnavailableError when KMS is unreachable;
   *   InvalidStateError when the live ended meanwhile.
   */
  addFeed(
    feedId: string,
    connectionId: string,
    sdpOffer: string,
    onCandidate: CandidateListener,
    options?: { complete?: boolean },
  ): Promise<string>;
  /**
   * Makes plain RTP described by `sdpOffer` (the RTMP bridge's ffmpeg, a PC client) the
   * contribution `feedId`; returns the media server's SDP answer (the ports to send to). A
   * previous feed of the same id is replaced.
   * @throws like addFeed (40201 for an SDP KMS cannot parse).
   */
  addRtpFeed(feedId: string, sdpOffer: string): Promise<string>;
  /** Releases feed `feedId` (and its connection); the program goes on without it. */
  removeFeed(feedId: string): Promise<void>;
  /**
   * Adds a receive-only connection fed by the program, or by feed `from` directly (a stage member
   * watching another one); returns the SDP answer. It is fed as soon as its source exists.
   * @throws like addFeed.
   */
  receive(
    connectionId: string,
    sdpOffer: string,
    onCandidate: CandidateListener,
    from?: string,
  ): Promise<string>;
  /** Hands a remote ICE candidate to connection `connectionId`; queued when it does not exist yet. */
  addIceCandidate(connectionId: string, candidate: IceCandidateInit): void;
  /** Releases connection `connectionId`, if any (the feed it carries, too). */
  disconnect(connectionId: string): void;
  /**
   * Sets the stage: the feeds on it (the host's first) and how they are mixed. With fewer than two
   * of them publishing, the program is the one there is; viewers never renegotiate.
   */
  setStage(feedIds: readonly string[], layout: Layout): Promise<void>;
  /** Puts a face overlay on every feed (now and later ones), or takes it off. */
  setFaceOverlay(on: boolean): Promise<void>;
  /**
   * Sends the program as RTP to where `sdpOffer` says (an egress ffmpeg listening; H.264 + Opus):
   * the sink follows every program switch. Close the handle to stop.
   * @throws MediaError when KMS refuses the offer; MediaUnavailableError; InvalidStateError when ended.
   */
  openEgress(sdpOffer: string): Promise<EgressHandle>;
  /** Releases everything the live holds in the media server. Idempotent. */
  close(): void;
  on<E extends keyof LiveMediaEvents>(event: E, listener: LiveMediaEvents[E]): this;
}

/** The program going out as RTP to one egress ffmpeg. */
export interface EgressHandle {
  readonly closed: boolean;
  /** The media server's SDP answer (where it sends from). */
  readonly sdpAnswer: string;
  /** Asks for a keyframe now (a new ffmpeg starts its first segment at once); never throws. */
  requestKeyframe(): Promise<void>;
  /** Stops sending and releases the endpoint. Idempotent. */
  close(): void;
}

/** Creates lives' media graphs. */
export interface MediaService {
  /**
   * Creates the media graph for a new live.
   * @throws MediaUnavailableError when the media server cannot be reached.
   */
  createLive(ids: { roomId: string; liveId: string }): Promise<LiveMedia>;
}

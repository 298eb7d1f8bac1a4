/**
 * What the room logic needs from egress (DASH/HLS for viewers who do not use WebRTC): start it
 * with a live, learn when it is ready, close it with the live. egress/ implements it with ffmpeg;
 * unit tests can leave it out (no egress).
 */
import type { LiveMedia } from './media.js';

/** The DASH/HLS output of a live, as viewers and the host panel see it. */
export type DashStatus = 'starting' | 'ready' | 'retrying' | 'failed' | 'closed';

/** Events of a LiveEgress. */
export interface LiveEgressEvents {
  /** The DASH status changed (e.g. the first segment exists: `ready`). */
  change: (status: DashStatus, reason?: string) => void;
}

/** One live's egress. */
export interface LiveEgress {
  readonly status: DashStatus;
  /** Stops ffmpeg, releases the media server's endpoint and ports, removes the files. Idempotent. */
  close(): void;
  on<E extends keyof LiveEgressEvents>(event: E, listener: LiveEgressEvents[E]): this;
}

/** Starts lives' egress. */
export interface EgressService {
  /** Starts the egress of a live whose media is `media`; failures are reported as status, never thrown. */
  start(ids: { roomId: string; liveId: string }, media: LiveMedia): LiveEgress;
}

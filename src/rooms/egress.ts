/**
 * What the room logic needs from egress (DASH/HLS for viewers who do not use WebRTC, RTMP pushes
 * to CDNs): start it with a live, learn how each output fares, close it with the live. egress/
 * implements it with ffmpeg; unit tests can leave it out (no egress).
 */
import type { DashStatus, DestinationStatus, EgressStatus } from '../protocol/index.js';
import type { LiveMedia } from './media.js';

export type { DashStatus, DestinationStatus, EgressStatus };

/** An RTMP destination of a room: where to push and the secret stream key. */
export interface RtmpDestination {
  /** Stable id (the room's stored destination, or `server-<n>`). */
  id: string;
  /** `rtmp://host[:port]/app/streamKey` or `rtmps://…`, stream key included. */
  url: string;
}

/** The URL ffmpeg pushes to: the destination's `rtmp://host/app` and its stream key. */
export function destinationUrl(url: string, key: string): string {
  return `${url.replace(/\/+$/, '')}/${key}`;
}

/** Events of a LiveEgress: name → listener arguments. */
export interface LiveEgressEvents {
  /** The DASH status changed (e.g. the first segment exists: `ready`). */
  change: [status: DashStatus, reason?: string];
  /** An RTMP destination's state changed; `egressStatus()` has them all. */
  destinationChanged: [destination: DestinationStatus];
}

/** One live's egress. */
export interface LiveEgress {
  readonly status: DashStatus;
  /** DASH and every RTMP destination, for the host (stream keys redacted). */
  egressStatus(): EgressStatus;
  /** Stops ffmpeg, releases the media server's endpoint and ports, removes the files. Idempotent. */
  close(): void;
  on<E extends keyof LiveEgressEvents>(event: E, listener: (...args: LiveEgressEvents[E]) => void): this;
}

/** Starts lives' egress. */
export interface EgressService {
  /**
   * WebRTC viewers of the program per room before `receiveVideo` is refused with
   * WebRtcViewerLimit (config MAX_WEBRTC_VIEWERS): only with egress on, since refused viewers
   * watch DASH. 0: no limit.
   */
  readonly maxWebRtcViewers: number;
  /**
   * Starts the egress of a live whose media is `media`: DASH/HLS, and a push to each of the room's
   * `destinations` (and the server's own). Failures are reported as status, never thrown.
   */
  start(
    ids: { roomId: string; liveId: string },
    media: LiveMedia,
    destinations?: readonly RtmpDestination[],
  ): LiveEgress;
}

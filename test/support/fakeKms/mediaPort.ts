/**
 * What the media path of the fake KMS is made of: a {@link MediaPort} per element that carries
 * media (a WebRtcEndpoint's werift peer, an RtpEndpoint's UDP sockets, a filter's relay), and the
 * codec facts the forwarding needs. The fake forwards RTP unchanged from a source element to its
 * sinks (payload type, SSRC, sequence numbers and timestamps are rewritten per leg); it never
 * decodes, mixes, filters or transcodes.
 */
import type { EventEmitter } from 'node:events';

import type { RtpPacket } from 'werift';

/** The media kinds that carry RTP. */
export type MediaKind = 'audio' | 'video';

/** The kinds, in KMS MediaType order. */
export const MEDIA_KINDS: readonly MediaKind[] = ['audio', 'video'];

/** A codec as negotiated on one leg: upper-case encoding name (`VP8`, `H264`, `OPUS`), clock rate in Hz, fmtp. */
export interface CodecInfo {
  name: string;
  clockRate: number;
  channels?: number;
  /** The `a=fmtp` parameters, e.g. `level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f`. */
  fmtp?: string;
}

/** Packets counted on one RTP stream (one SSRC). */
export interface RtpStreamStats {
  kind: MediaKind;
  ssrc: number;
  /** The payload type of the last packet. */
  payloadType: number;
  packets: number;
  /** Payload and header bytes of RTP packets (no UDP/IP, no SRTP tag). */
  bytes: number;
}

/** What an element's media port has received from and sent to its remote peer. */
export interface RtpStats {
  received: RtpStreamStats[];
  sent: RtpStreamStats[];
  /** Packets from a source this port could not forward (no negotiated codec of the same name). */
  dropped: number;
}

/** Events of a {@link MediaPort}. */
export interface MediaPortEvents {
  /** RTP received from the remote peer (decrypted), with the codec its payload type maps to on this leg. */
  rtp: [kind: MediaKind, rtp: RtpPacket, codec: CodecInfo];
  /** The remote peer (a viewer) asked for a keyframe (PLI/FIR), or this port just became able to send. */
  keyframeRequest: [kind: MediaKind];
  /** RTP from the remote peer started (true) or stopped for ~3 s (false). */
  flow: [kind: MediaKind, flowing: boolean];
}

/**
 * One element's access to real media. A source port emits `rtp`; a sink port gets {@link send}
 * calls; the {@link MediaRouter} wires them along the graph's connections.
 */
export interface MediaPort {
  readonly events: EventEmitter<MediaPortEvents>;
  /**
   * Sends RTP that came from a source to this port's remote peer. `rtp` is this port's own copy
   * (it may be modified); `codec` is the codec on the source's leg. Packets whose codec this leg
   * did not negotiate are dropped and counted.
   */
  send(kind: MediaKind, rtp: RtpPacket, codec: CodecInfo): void;
  /** Asks the remote peer (a publisher) for a keyframe: RTCP PLI on the last SSRC it sent. */
  requestKeyframe(kind: MediaKind): void;
  /** Whether RTP of `kind` from the remote peer arrived in the last ~3 s. */
  flowing(kind: MediaKind): boolean;
  /** Counters of received / sent RTP. */
  stats(): RtpStats;
  /** Frees sockets and peers; idempotent. */
  close(): Promise<void>;
}

/** The KMS MediaType of a kind. */
export const mediaTypeOfKind = (kind: MediaKind): 'AUDIO' | 'VIDEO' => (kind === 'audio' ? 'AUDIO' : 'VIDEO');

/** The kind of a KMS MediaType (DATA has none). */
export function kindOfMediaType(type: string): MediaKind | undefined {
  return type === 'AUDIO' ? 'audio' : type === 'VIDEO' ? 'video' : undefined;
}

/** `packetization-mode` of an H.264 fmtp (RFC 6184: absent means 0). */
function packetizationMode(fmtp: string | undefined): string {
  return /packetization-mode=(\d)/.exec(fmtp ?? '')?.[1] ?? '0';
}

/**
 * Whether RTP of codec `from` can be forwarded as codec `to` without transcoding: same encoding
 * name and clock rate; for H.264 also the same packetization mode (the profile does not matter to
 * a decoder of constrained-baseline streams, which is what browsers and `libx264 -profile baseline` send).
 */
export function forwardable(from: CodecInfo, to: CodecInfo): boolean {
  if (from.name !== to.name || from.clockRate !== to.clockRate) return false;
  return from.name !== 'H264' || packetizationMode(from.fmtp) === packetizationMode(to.fmtp);
}

/** Whether a buffer holds RTCP rather than RTP (RFC 5761 §4: payload type byte 192–223). */
export function isRtcpPacket(buf: Buffer): boolean {
  const pt = buf.length > 1 ? (buf[1] ?? 0) : 0;
  return buf.length >= 8 && pt >= 192 && pt <= 223;
}

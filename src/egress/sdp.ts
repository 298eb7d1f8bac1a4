/**
 * The SDP offer Theia gives to the egress KMS RtpEndpoint (`processOffer`), which is also the input
 * ffmpeg reads (`-i <file>.sdp`): "send me H.264 and Opus over RTP on these local ports".
 *
 * Sources of the protocol facts:
 * - SDP: RFC 8866 (obsoletes RFC 4566): `v=`, `o=`, `s=`, `c=`, `t=`, `m=`, `a=rtpmap`,
 *   `a=recvonly` (§6.7.2: the offerer only receives; KMS answers `sendonly`).
 * - RTCP port: RFC 3550 §11 (RTP on an even port, RTCP on the next odd one) and RFC 3605
 *   (`a=rtcp:<port>`), which ffmpeg's SDP demuxer and KMS both honour.
 * - H.264 payload format: RFC 6184 §8.1 (`H264/90000`, `packetization-mode=1`: single NAL units
 *   and FU-A fragments, non-interleaved; `profile-level-id=42e01f`: Constrained Baseline, level
 *   3.1) and `level-asymmetry-allowed=1` (§8.2.2), so KMS may send any level and the offer matches
 *   what browsers offer.
 * - Opus payload format: RFC 7587 §7 (`opus/48000/2` always, whatever is sent; `minptime`,
 *   `useinbandfec`).
 * - Dynamic payload types 96–127: RFC 3551 §6. KMS keeps the offer's payload types in its answer
 *   (shared/kms-protocol/README.md).
 *
 * No `a=ssrc` (RFC 5576): that attribute describes the sources a party sends, and the offerer
 * here sends nothing; KMS picks its SSRCs and ffmpeg accepts whichever arrives.
 */

/** Payload types used in the offer (RFC 3551 dynamic range). */
export const EGRESS_VIDEO_PAYLOAD_TYPE = 96;
export const EGRESS_AUDIO_PAYLOAD_TYPE = 111;

/** Where the RTP for one egress ffmpeg arrives. */
export interface EgressSdpOptions {
  /**
   * Address KMS sends to (`c=` line), the host where ffmpeg listens. Default `127.0.0.1`
   * (KMS and the app on one host, host networking). ffmpeg binds the ports on all interfaces.
   */
  address?: string;
  /** Even UDP port for video RTP; RTCP uses `videoPort + 1`. */
  videoPort: number;
  /** Even UDP port for audio RTP; RTCP uses `audioPort + 1`. */
  audioPort: number;
  /** `s=` session name (printable ASCII, no line breaks). Default `Theia egress`. */
  sessionName?: string;
}

function checkPort(name: string, port: number): void {
  if (!Number.isInteger(port) || port < 1024 || port > 65534 || port % 2 !== 0) {
    throw new TypeError(`${name} must be an even integer port in 1024..65534 (got ${String(port)})`);
  }
}

/**
 * Writes the SDP offer (CRLF line ends, RFC 8866 §5). Throws `TypeError` for an odd or
 * out-of-range port, equal ports, or an address/session name with line breaks.
 */
export function writeEgressSdp(options: EgressSdpOptions): string {
  const address = options.address ?? '127.0.0.1';
  const sessionName = options.sessionName ?? 'Theia egress';
  checkPort('videoPort', options.videoPort);
  checkPort('audioPort', options.audioPort);
  if (options.videoPort === options.audioPort) throw new TypeError('videoPort and audioPort must differ');
  if (/[\r\n\s]/.test(address) || address.length === 0)
    throw new TypeError('address must be one host address');
  if (/[\r\n]/.test(sessionName)) throw new TypeError('sessionName must be one line');
  const ipVersion = address.includes(':') ? 'IP6' : 'IP4';
  const v = EGRESS_VIDEO_PAYLOAD_TYPE;
  const a = EGRESS_AUDIO_PAYLOAD_TYPE;
  const lines = [
    'v=0',
    `o=- 0 0 IN ${ipVersion} ${address}`,
    `s=${sessionName}`,
    `c=IN ${ipVersion} ${address}`,
    't=0 0',
    `m=video ${options.videoPort} RTP/AVP ${v}`,
    `a=rtpmap:${v} H264/90000`,
    `a=fmtp:${v} level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f`,
    `a=rtcp:${options.videoPort + 1}`,
    'a=recvonly',
    `m=audio ${options.audioPort} RTP/AVP ${a}`,
    `a=rtpmap:${a} opus/48000/2`,
    `a=fmtp:${a} minptime=10;useinbandfec=1`,
    `a=rtcp:${options.audioPort + 1}`,
    'a=recvonly',
  ];
  return lines.join('\r\n') + '\r\n';
}

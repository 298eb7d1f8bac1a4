/**
 * The SDP of plain RTP pushed into a KMS RtpEndpoint (the RTMP bridge's ffmpeg, a PC client):
 * Theia writes the offer describing what the sender will send, KMS answers where to send it.
 * Syntax: RFC 8866 (SDP); RTP/AVP and payload types: RFC 3550 / RFC 3551; H.264 payload format:
 * RFC 6184 (packetization-mode=1 is what ffmpeg's RTP muxer sends); Opus: RFC 7587
 * (`opus/48000/2` whatever the channels). Recorded facts of KMS's answer
 * (`/work/shared/kms-protocol/README.md`): it keeps the offer's payload types, says `a=recvonly`
 * to a `sendonly` offer, advertises the KMS host's first non-loopback address in `c=` and adds
 * `a=rtcp:<port+1>`.
 */
import { randomInt } from 'node:crypto';

/** Payload types of the offer (dynamic range 96–127, RFC 3551 §3). */
export const OPUS_PAYLOAD_TYPE = 96;
export const H264_PAYLOAD_TYPE = 103;

/** What a sender of plain RTP sends: one SSRC per medium (RFC 3550 §8). */
export interface RtpSenderDescription {
  audioSsrc: number;
  videoSsrc: number;
  /** `a=ssrc … cname:` (RFC 5576), e.g. `theia-<liveId>`. */
  cname: string;
}

/** Where KMS listens, read from its answer. */
export interface RtpTarget {
  /** `c=` address of the session (or of the media section). */
  address: string;
  audioPort: number;
  videoPort: number;
  /** RTCP ports: `a=rtcp:` when given, else RTP + 1 (RFC 3550 §11). */
  audioRtcpPort: number;
  videoRtcpPort: number;
}

/** A random SSRC, nonzero, 32 bits (RFC 3550 §8.1: chosen at random). */
export function randomSsrc(): number {
  return randomInt(1, 2 ** 32 - 1);
}

/** Fresh SSRCs for a sender. */
export function newSender(cname: string): RtpSenderDescription {
  let videoSsrc = randomSsrc();
  const audioSsrc = randomSsrc();
  while (videoSsrc === audioSsrc) videoSsrc = randomSsrc();
  return { audioSsrc, videoSsrc, cname };
}

/**
 * The `sendonly` offer for Opus audio (PT 96) and H.264 video (PT 103, packetization-mode 1),
 * with the sender's SSRCs. The ports are where RTCP from KMS may go (9, discard, RFC 863: the
 * bridge does not read RTCP; KMS's receiver reports are then dropped).
 */
export function rtpPublishOffer(sender: RtpSenderDescription, address = '127.0.0.1', port = 9): string {
  return [
    'v=0',
    `o=- 0 0 IN IP4 ${address}`,
    's=theia',
    `c=IN IP4 ${address}`,
    't=0 0',
    `m=audio ${port} RTP/AVP ${OPUS_PAYLOAD_TYPE}`,
    `a=rtpmap:${OPUS_PAYLOAD_TYPE} opus/48000/2`,
    `a=ssrc:${sender.audioSsrc} cname:${sender.cname}`,
    'a=sendonly',
    `m=video ${port} RTP/AVP ${H264_PAYLOAD_TYPE}`,
    `a=rtpmap:${H264_PAYLOAD_TYPE} H264/90000`,
    `a=fmtp:${H264_PAYLOAD_TYPE} packetization-mode=1`,
    `a=ssrc:${sender.videoSsrc} cname:${sender.cname}`,
    'a=sendonly',
    '',
  ].join('\r\n');
}

/**
 * Reads where to send from KMS's answer.
 * @throws TypeError when `sdpAnswer` has no address or no audio/video port.
 */
export function rtpTargetOf(sdpAnswer: string): RtpTarget {
  const lines = sdpAnswer.split(/\r?\n/);
  let sessionAddress: string | undefined;
  const media: Record<string, { port: number; address?: string; rtcp?: number }> = {};
  let current: { port: number; address?: string; rtcp?: number } | undefined;
  for (const line of lines) {
    const m = /^m=(audio|video) (\d+) /.exec(line);
    if (m) {
      current = { port: Number(m[2]) };
      media[m[1]!] ??= current;
      continue;
    }
    if (line.startsWith('m=')) {
      current = undefined;
      continue;
    }
    const c = /^c=IN IP[46] ([^\s/]+)/.exec(line);
    if (c) {
      if (current) current.address = c[1];
      else sessionAddress = c[1];
      continue;
    }
    const rtcp = /^a=rtcp:(\d+)/.exec(line);
    if (rtcp && current) current.rtcp = Number(rtcp[1]);
  }
  const audio = media.audio;
  const video = media.video;
  const address = video?.address ?? audio?.address ?? sessionAddress;
  if (!audio || !video || !address || audio.port === 0 || video.port === 0) {
    throw new TypeError('sdpAnswer: needs a c= address and accepted audio and video m= sections');
  }
  return {
    address,
    audioPort: audio.port,
    videoPort: video.port,
    audioRtcpPort: audio.rtcp ?? audio.port + 1,
    videoRtcpPort: video.rtcp ?? video.port + 1,
  };
}

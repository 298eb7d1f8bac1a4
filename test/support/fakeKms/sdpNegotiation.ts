/**
 * SDP handling of the fake KMS: validation, and answers/offers shaped like those of a real
 * KMS 7.3.1 as recorded in `/work/shared/kms-protocol/real-kms-scenario.jsonl`:
 * - WebRtcEndpoint `processOffer` answers (requests 17, 43, 64): `o=- <ntp> <ntp> IN IP4 0.0.0.0`,
 *   `s=Kurento Media Server`, `c=IN IP4 0.0.0.0`, the offer's BUNDLE group / msid-semantic /
 *   extmap-allow-mixed echoed, every m-line in the offer's order with port 1, the offer's mid,
 *   the mirrored direction (sendrecv↔sendrecv, recvonly→sendonly, sendonly→recvonly), only the
 *   offered payload types KMS supports (opus, PCMU, PCMA; VP8, VP9, H264, H265, AV1 — no rtx, red,
 *   ulpfec, flexfec, CN, telephone-event, G722), only the abs-send-time extmap,
 *   `a=rtcp:9 IN IP4 0.0.0.0`, `a=setup:active`, `a=rtcp-mux`, one `a=ssrc … cname:user…@host-…`,
 *   `a=ice-ufrag`, `a=ice-pwd`, `a=fingerprint:sha-256`; lines end with CRLF.
 * - RtpEndpoint `generateOffer` (request 95) and `processOffer` of an ffmpeg-style offer (request 97):
 *   the host address in `o=`/`c=`, even RTP ports with `a=rtcp:<port+1>`.
 * - Anything that is not an SDP (the string `garbage`, request 99) → 40201 SDP_PARSE_ERROR "Invalid SDP".
 */
import { randomBytes, randomInt } from 'node:crypto';

import { KmsError } from './KmsError.js';

/** An m-line with its attribute lines (without the `m=` line itself). */
export interface SdpMedia {
  kind: string;
  port: number;
  proto: string;
  formats: string[];
  lines: string[];
}

/** A parsed SDP: session-level lines (without v=, o=, s=, c=, t=) and media sections. */
export interface ParsedSdp {
  sessionLines: string[];
  media: SdpMedia[];
}

export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

const STATIC_PAYLOADS: Record<string, string> = {
  '0': 'PCMU/8000',
  '3': 'GSM/8000',
  '8': 'PCMA/8000',
  '9': 'G722/8000',
  '18': 'G729/8000',
  '26': 'JPEG/90000',
  '32': 'MPV/90000',
  '34': 'H263/90000',
};
const WEBRTC_CODECS = new Set(['OPUS', 'PCMU', 'PCMA', 'VP8', 'VP9', 'H264', 'H265', 'AV1']);
const RTP_CODECS = new Set([...WEBRTC_CODECS, 'AMR']);
const KMS_VIDEO_FEEDBACK = ['goog-remb', 'ccm fir', 'nack', 'nack pli'];
const ABS_SEND_TIME = 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time';
/** Seconds between the NTP epoch (1900) and the Unix epoch: KMS's `o=` session id is NTP seconds. */
const NTP_OFFSET = 2208988800;

/** Throws 40201 SDP_PARSE_ERROR "Invalid SDP" (recorded for `processOffer('garbage')`). */
export function invalidSdp(): KmsError {
  return KmsError.kurento('SDP_PARSE_ERROR', 'Invalid SDP');
}

/** Parses an SDP, or throws {@link invalidSdp} when it is not one (first line `v=0`, `<x>=` lines, o=/s=/t=). */
export function parseSdp(text: unknown): ParsedSdp {
  if (typeof text !== 'string') throw invalidSdp();
  const lines = text.split(/\r?\n/).filter((l) => l.length > 0);
  if (lines[0] !== 'v=0' || !lines.every((l) => /^[a-z]=/.test(l))) throw invalidSdp();
  if (!['o=', 's=', 't='].every((p) => lines.some((l) => l.startsWith(p)))) throw invalidSdp();
  const out: ParsedSdp = { sessionLines: [], media: [] };
  let current: SdpMedia | undefined;
  for (const line of lines.slice(1)) {
    if (line.startsWith('m=')) {
      const [kind, port, proto, ...formats] = line.slice(2).split(' ');
      if (!kind || !port || !proto || !/^\d+(\/\d+)?$/.test(port)) throw invalidSdp();
      current = { kind, port: Number.parseInt(port, 10), proto, formats, lines: [] };
      out.media.push(current);
    } else if (current) {
      current.lines.push(line);
    } else if (!/^[vostc]=/.test(line)) {
      out.sessionLines.push(line);
    }
  }
  return out;
}

/** The direction attribute of an m-line (sendrecv when absent). */
export function directionOf(media: SdpMedia, sessionLines: string[] = []): Direction {
  for (const l of [...media.lines, ...sessionLines]) {
    const m = /^a=(sendrecv|sendonly|recvonly|inactive)$/.exec(l);
    if (m) return m[1] as Direction;
  }
  return 'sendrecv';
}

/** The answerer's direction for an offered direction. */
export function mirror(direction: Direction): Direction {
  return direction === 'sendonly' ? 'recvonly' : direction === 'recvonly' ? 'sendonly' : direction;
}

/** Whether the side that wrote `direction` sends media. */
export function sends(direction: Direction): boolean {
  return direction === 'sendrecv' || direction === 'sendonly';
}

/** The MediaType (AUDIO/VIDEO/DATA) of an m-line kind. */
export function mediaTypeOf(kind: string): 'AUDIO' | 'VIDEO' | 'DATA' | undefined {
  return kind === 'audio'
    ? 'AUDIO'
    : kind === 'video'
      ? 'VIDEO'
      : kind === 'application'
        ? 'DATA'
        : undefined;
}

const attr = (media: SdpMedia, name: string): string | undefined =>
  media.lines.find((l) => l.startsWith(`a=${name}:`))?.slice(name.length + 3);

/** Per-endpoint identity that KMS puts in its SDPs. */
export interface SdpIdentity {
  iceUfrag: string;
  icePwd: string;
  /** `sha-256 AA:BB:…` — one certificate per KMS process. */
  fingerprint: string;
  cname: string;
}

const ICE_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const iceString = (n: number): string => Array.from({ length: n }, () => ICE_CHARS[randomInt(64)]).join('');

/** A random DTLS fingerprint like KMS's (`sha-256` + 32 colon-separated hex bytes). */
export function randomFingerprint(): string {
  return `sha-256 ${[...randomBytes(32)].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':')}`;
}

/** Fresh ICE credentials and RTCP cname for a new endpoint (ufrag 4 chars, pwd 22 chars as recorded). */
export function newIdentity(fingerprint: string): SdpIdentity {
  return {
    iceUfrag: iceString(4),
    icePwd: iceString(22),
    fingerprint,
    cname: `user${randomInt(2 ** 31)}@host-${randomBytes(4).toString('hex')}`,
  };
}

const ntpSeconds = (): number => Math.floor(Date.now() / 1000) + NTP_OFFSET;
const ssrc = (): number => randomInt(1, 2 ** 32 - 1);
const join = (lines: string[]): string => lines.map((l) => `${l}\r\n`).join('');

interface Codec {
  pt: string;
  rtpmap: string;
  fmtp?: string;
}

function offeredCodecs(media: SdpMedia, supported: Set<string>): Codec[] {
  const out: Codec[] = [];
  for (const pt of media.formats) {
    const line = media.lines.find((l) => l.startsWith(`a=rtpmap:${pt} `));
    const map = line ? line.slice(`a=rtpmap:${pt} `.length) : STATIC_PAYLOADS[pt];
    if (!map) continue;
    const name = map.split('/')[0]?.toUpperCase() ?? '';
    if (!supported.has(name)) continue;
    const fmtpLine = media.lines.find((l) => l.startsWith(`a=fmtp:${pt} `));
    out.push({ pt, rtpmap: map, ...(fmtpLine ? { fmtp: fmtpLine.slice(`a=fmtp:${pt} `.length) } : {}) });
  }
  return out;
}

/** Options of {@link buildWebRtcAnswer}. */
export interface WebRtcAnswerOptions {
  identity: SdpIdentity;
  /** WebRtcEndpoint constructor flags `recvonly` / `sendonly` restrict the answer's direction. */
  recvonly?: boolean;
  sendonly?: boolean;
  useDataChannels?: boolean;
}

/** The answer of a WebRtcEndpoint to an offer, shaped like the recorded ones (see file header). */
export function buildWebRtcAnswer(offer: ParsedSdp, opts: WebRtcAnswerOptions): string {
  const id = ntpSeconds();
  const lines = [
    'v=0',
    `o=- ${id} ${id} IN IP4 0.0.0.0`,
    's=Kurento Media Server',
    'c=IN IP4 0.0.0.0',
    't=0 0',
  ];
  if (offer.sessionLines.includes('a=extmap-allow-mixed')) lines.push('a=extmap-allow-mixed');
  const msid = offer.sessionLines.find((l) => l.startsWith('a=msid-semantic:'));
  if (msid) lines.push(msid);
  const bundled = offer.sessionLines.some((l) => l.startsWith('a=group:BUNDLE'));
  const sections: string[][] = [];
  const accepted: string[] = [];
  for (const media of offer.media) {
    const mid = attr(media, 'mid');
    const codecs = offeredCodecs(media, WEBRTC_CODECS);
    const isData = media.kind === 'application';
    if (media.port === 0 || (isData ? !opts.useDataChannels : codecs.length === 0)) {
      sections.push([
        `m=${media.kind} 0 ${media.proto} ${media.formats.join(' ')}`,
        ...(mid !== undefined ? [`a=mid:${mid}`] : []),
        'a=inactive',
      ]);
      continue;
    }
    if (mid !== undefined) accepted.push(mid);
    const ice = [
      `a=ice-ufrag:${opts.identity.iceUfrag}`,
      `a=ice-pwd:${opts.identity.icePwd}`,
      `a=fingerprint:${opts.identity.fingerprint}`,
    ];
    if (isData) {
      sections.push([
        `m=application 1 ${media.proto} ${media.formats.join(' ')}`,
        ...(mid !== undefined ? [`a=mid:${mid}`] : []),
        'a=setup:active',
        'a=sctp-port:5000',
        ...ice,
      ]);
      continue;
    }
    let direction = mirror(directionOf(media));
    if (opts.recvonly) direction = sends(mirror(direction)) ? 'recvonly' : 'inactive';
    else if (opts.sendonly) direction = sends(direction) ? 'sendonly' : 'inactive';
    const ext = media.lines.find((l) => l.startsWith('a=extmap:') && l.endsWith(` ${ABS_SEND_TIME}`));
    const section = [
      `m=${media.kind} 1 ${media.proto} ${codecs.map((c) => c.pt).join(' ')}`,
      ...(ext ? [ext] : []),
      `a=${direction}`,
      ...(mid !== undefined ? [`a=mid:${mid}`] : []),
      'a=rtcp:9 IN IP4 0.0.0.0',
      ...codecs.map((c) => `a=rtpmap:${c.pt} ${c.rtpmap}`),
    ];
    if (media.kind === 'video') {
      for (const c of codecs) section.push(...KMS_VIDEO_FEEDBACK.map((fb) => `a=rtcp-fb:${c.pt} ${fb}`));
    }
    section.push('a=setup:active');
    if (media.lines.includes('a=rtcp-mux')) section.push('a=rtcp-mux');
    for (const c of codecs) if (c.fmtp !== undefined) section.push(`a=fmtp:${c.pt} ${c.fmtp}`);
    section.push(`a=ssrc:${ssrc()} cname:${opts.identity.cname}`, ...ice);
    sections.push(section);
  }
  if (bundled && accepted.length > 0) lines.push(`a=group:BUNDLE ${accepted.join(' ')}`);
  return join([...lines, ...sections.flat()]);
}

/** Options of {@link buildWebRtcOffer}: KMS's `OfferOptions` complex type. */
export interface WebRtcOfferOptions {
  identity: SdpIdentity;
  offerToReceiveAudio?: boolean;
  offerToReceiveVideo?: boolean;
  recvonly?: boolean;
  sendonly?: boolean;
  useDataChannels?: boolean;
}

/** An offer of a WebRtcEndpoint (`generateOffer`): BUNDLE, rtcp-mux, `a=setup:actpass`, opus/PCMU/PCMA, VP8/H264. */
export function buildWebRtcOffer(opts: WebRtcOfferOptions): string {
  const id = ntpSeconds();
  const direction: Direction = opts.recvonly ? 'recvonly' : opts.sendonly ? 'sendonly' : 'sendrecv';
  const ice = [
    `a=ice-ufrag:${opts.identity.iceUfrag}`,
    `a=ice-pwd:${opts.identity.icePwd}`,
    `a=fingerprint:${opts.identity.fingerprint}`,
  ];
  const sections: string[][] = [];
  const mids: string[] = [];
  const add = (kind: 'audio' | 'video', codecs: Array<[string, string, string?]>, extra: string[]): void => {
    const mid = String(sections.length);
    mids.push(mid);
    sections.push([
      `m=${kind} 1 UDP/TLS/RTP/SAVPF ${codecs.map((c) => c[0]).join(' ')}`,
      `a=extmap:3 ${ABS_SEND_TIME}`,
      `a=${direction}`,
      `a=mid:${mid}`,
      'a=rtcp:9 IN IP4 0.0.0.0',
      ...codecs.map((c) => `a=rtpmap:${c[0]} ${c[1]}`),
      ...extra,
      'a=setup:actpass',
      'a=rtcp-mux',
      ...codecs.filter((c) => c[2] !== undefined).map((c) => `a=fmtp:${c[0]} ${c[2]}`),
      `a=ssrc:${ssrc()} cname:${opts.identity.cname}`,
      ...ice,
    ]);
  };
  if (opts.offerToReceiveAudio !== false) {
    add(
      'audio',
      [
        ['96', 'opus/48000/2', 'minptime=10;useinbandfec=1'],
        ['0', 'PCMU/8000'],
        ['8', 'PCMA/8000'],
      ],
      [],
    );
  }
  if (opts.offerToReceiveVideo !== false) {
    const video: Array<[string, string, string?]> = [
      ['102', 'VP8/90000'],
      ['103', 'H264/90000', 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f'],
    ];
    add(
      'video',
      video,
      video.flatMap((c) => KMS_VIDEO_FEEDBACK.map((fb) => `a=rtcp-fb:${c[0]} ${fb}`)),
    );
  }
  if (opts.useDataChannels) {
    const mid = String(sections.length);
    mids.push(mid);
    sections.push([
      'm=application 1 UDP/DTLS/SCTP webrtc-datachannel',
      `a=mid:${mid}`,
      'a=setup:actpass',
      'a=sctp-port:5000',
      ...ice,
    ]);
  }
  return join([
    'v=0',
    `o=- ${id} ${id} IN IP4 0.0.0.0`,
    's=Kurento Media Server',
    'c=IN IP4 0.0.0.0',
    't=0 0',
    `a=group:BUNDLE ${mids.join(' ')}`,
    ...sections.flat(),
  ]);
}

/** Allocates an even RTP port (RTCP on port+1), as the RtpEndpoint SDPs show. */
export type PortAllocator = () => number;

/** The offer of an RtpEndpoint (`generateOffer`), copied from the recorded one (request 95). */
export function buildRtpOffer(address: string, ports: PortAllocator, cname: string): string {
  const id = ntpSeconds();
  const audio = ports();
  const video = ports();
  const fb = (pt: number, remb: boolean): string[] => [
    `a=rtcp-fb:${pt} nack`,
    `a=rtcp-fb:${pt} nack pli`,
    ...(remb ? [`a=rtcp-fb:${pt} goog-remb`] : []),
    `a=rtcp-fb:${pt} ccm fir`,
  ];
  return join([
    'v=0',
    `o=- ${id} ${id} IN IP4 ${address}`,
    's=Kurento Media Server',
    `c=IN IP4 ${address}`,
    't=0 0',
    `m=audio ${audio} RTP/AVPF 96 0 8 97`,
    'a=setup:actpass',
    `a=extmap:3 ${ABS_SEND_TIME}`,
    'a=rtpmap:96 opus/48000/2',
    'a=rtpmap:97 AMR/8000',
    `a=rtcp:${audio + 1}`,
    'a=sendrecv',
    'a=mid:audio0',
    `a=ssrc:${ssrc()} cname:${cname}`,
    `m=video ${video} RTP/AVPF 105 106 107 108 109`,
    'a=setup:actpass',
    `a=extmap:3 ${ABS_SEND_TIME}`,
    'a=rtpmap:105 H265/90000',
    'a=rtpmap:106 AV1/90000',
    'a=fmtp:106 level-idx=5;profile=0;tier=0',
    'a=rtpmap:107 VP9/90000',
    'a=fmtp:107 profile-id=0',
    'a=rtpmap:108 VP8/90000',
    'a=rtpmap:109 H264/90000',
    'a=fmtp:109 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
    `a=rtcp:${video + 1}`,
    'a=sendrecv',
    'a=mid:video0',
    ...fb(105, false),
    ...fb(106, true),
    ...fb(107, true),
    ...fb(108, true),
    ...fb(109, false),
    `a=ssrc:${ssrc()} cname:${cname}`,
  ]);
}

/** The answer of an RtpEndpoint to an (ffmpeg-style) offer, shaped like the recorded one (request 97). */
export function buildRtpAnswer(
  offer: ParsedSdp,
  address: string,
  ports: PortAllocator,
  cname: string,
): string {
  const id = ntpSeconds();
  const lines = [
    'v=0',
    `o=- ${id} ${id} IN IP4 ${address}`,
    's=Kurento Media Server',
    `c=IN IP4 ${address}`,
    't=0 0',
  ];
  for (const media of offer.media) {
    const codecs = offeredCodecs(media, RTP_CODECS);
    if (media.port === 0 || codecs.length === 0) {
      lines.push(`m=${media.kind} 0 ${media.proto} ${media.formats.join(' ')}`, 'a=inactive');
      continue;
    }
    const port = ports();
    lines.push(
      `m=${media.kind} ${port} ${media.proto} ${codecs.map((c) => c.pt).join(' ')}`,
      `a=${mirror(directionOf(media, offer.sessionLines))}`,
      `a=rtcp:${port + 1}`,
    );
    for (const c of codecs) {
      lines.push(`a=rtpmap:${c.pt} ${c.rtpmap}`);
      if (c.fmtp !== undefined) lines.push(`a=fmtp:${c.pt} ${c.fmtp}`);
    }
    lines.push(`a=ssrc:${ssrc()} cname:${cname}`);
  }
  return join(lines);
}

/**
 * Real RTP on real UDP ports behind a fake RtpEndpoint (plain RTP/AVP(F), no SRTP), when the fake
 * KMS carries media.
 *
 * - Sockets: an even RTP port and RTCP on port+1 per m-line, bound before the SDP that advertises
 *   them is written, on all IPv4 addresses (a real KMS's RtpEndpoint listens on all addresses while
 *   its SDP advertises one: `/work/shared/kms-protocol/README.md`, scenario 1 facts).
 * - Receiving: packets are counted per SSRC ({@link stats}), mapped to a codec through the local
 *   SDP's payload types (RFC 3264 §5.1: a peer sends with the receiver's payload types) and
 *   emitted to the router. RTCP (on port+1, or muxed: RFC 5761) is read for PLI/FIR.
 * - Sending: RTP forwarded from a source goes to the remote SDP's address and port of the same
 *   kind (`c=` of the m-line or the session, the m-line's port), with the remote's payload type for
 *   the same codec, this endpoint's SSRC (its `a=ssrc` line), and sequence numbers / timestamps
 *   kept continuous when the source changes. Nothing is sent to port 0, to `0.0.0.0`, or when the
 *   remote does not receive (`a=sendonly` / `a=inactive`).
 */
import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';

import { PictureLossIndication, RtcpPacketConverter, RtcpPayloadSpecificFeedback, RtpPacket } from 'werift';

import {
  type CodecInfo,
  forwardable,
  isRtcpPacket,
  type MediaKind,
  type MediaPort,
  type MediaPortEvents,
  type RtpStats,
} from './mediaPort.js';
import { RtpCounters } from './RtpCounters.js';
import { directionOf, parseSdp, type SdpMedia } from './sdpNegotiation.js';

/** A bound RTP/RTCP socket pair. */
interface SocketPair {
  port: number;
  rtp: dgram.Socket;
  rtcp: dgram.Socket;
}

/** One negotiated m-line. */
interface Stream {
  kind: MediaKind;
  pair: SocketPair;
  /** Our SSRC on this m-line (from our SDP's `a=ssrc`). */
  ssrc: number;
  /** Codecs by payload type we receive with (our SDP). */
  recvCodecs: Map<number, CodecInfo>;
  /** Codecs by payload type the remote receives (its SDP). */
  sendCodecs: Map<number, CodecInfo>;
  /** Where to send RTP / RTCP, when the remote receives. */
  dest?: { address: string; rtpPort: number; rtcpPort: number };
  lastRemoteSsrc?: number;
  /** Where the remote's RTCP comes from (its RTP source port + 1 until RTCP arrives): PLI goes there. */
  remote?: { address: string; port: number };
  /** Rewriting of forwarded packets, per source SSRC. */
  out?: { sourceSsrc: number; seqOffset: number; tsOffset: number; lastSeq: number; lastTs: number };
}

/** Attempts at finding a free port pair before giving up. */
const BIND_ATTEMPTS = 50;

const PORT_MIN = 20000;
const PORT_MAX = 59998;

function bindSocket(port: number): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.once('error', (e) => {
      s.close();
      reject(e);
    });
    s.bind(port, '0.0.0.0', () => {
      s.removeAllListeners('error');
      s.on('error', () => undefined);
      resolve(s);
    });
  });
}

/** Binds an even RTP port and the RTCP port above it, somewhere in 20000–59999 (KMS's default range). */
async function bindPair(avoid: (port: number) => boolean): Promise<SocketPair> {
  for (let i = 0; i < BIND_ATTEMPTS; i++) {
    const port = PORT_MIN + 2 * Math.floor(Math.random() * ((PORT_MAX - PORT_MIN) / 2));
    if (avoid(port)) continue;
    let rtp: dgram.Socket | undefined;
    try {
      rtp = await bindSocket(port);
      const rtcp = await bindSocket(port + 1);
      return { port, rtp, rtcp };
    } catch {
      rtp?.close();
    }
  }
  throw new Error('no free UDP port pair for an RtpEndpoint');
}

/** The codecs of an m-line by payload type (rtpmap lines; static types 0 and 8). */
function codecsOf(media: SdpMedia): Map<number, CodecInfo> {
  const out = new Map<number, CodecInfo>();
  for (const f of media.formats) {
    const pt = Number(f);
    const map =
      media.lines.find((l) => l.startsWith(`a=rtpmap:${f} `))?.slice(`a=rtpmap:${f} `.length) ??
      (pt === 0 ? 'PCMU/8000' : pt === 8 ? 'PCMA/8000' : undefined);
    if (!map || !Number.isInteger(pt)) continue;
    const [name = '', rate = '0', channels] = map.split('/');
    const fmtp = media.lines.find((l) => l.startsWith(`a=fmtp:${f} `))?.slice(`a=fmtp:${f} `.length);
    out.set(pt, {
      name: name.toUpperCase(),
      clockRate: Number(rate),
      ...(channels !== undefined ? { channels: Number(channels) } : {}),
      ...(fmtp !== undefined ? { fmtp } : {}),
    });
  }
  return out;
}

/** The connection address of an m-line (media-level `c=` wins over the session's). */
function addressOf(sdp: string, index: number): string | undefined {
  let address: string | undefined;
  let m = -1;
  for (const l of sdp.split(/\r?\n/)) {
    if (l.startsWith('m=')) m += 1;
    if (m > index) break;
    const c = /^c=IN IP4 (\S+)/.exec(l);
    if (c && (m === -1 || m === index)) address = c[1]?.split('/')[0];
  }
  return address;
}

/** The UDP side of one fake RtpEndpoint; a {@link MediaPort} of the media router. */
export class RtpPeer implements MediaPort {
  readonly events = new EventEmitter<MediaPortEvents>().setMaxListeners(0);
  private readonly counters = new RtpCounters((kind, flowing) => this.events.emit('flow', kind, flowing));
  private streams: Stream[] = [];
  private _closed = false;

  private constructor(private pairs: SocketPair[]) {}

  /** Binds `count` RTP/RTCP port pairs (`avoid` excludes ports already handed out). */
  static async bind(count: number, avoid: (port: number) => boolean = () => false): Promise<RtpPeer> {
    const pairs: SocketPair[] = [];
    try {
      for (let i = 0; i < count; i++)
        pairs.push(await bindPair((p) => avoid(p) || pairs.some((x) => x.port === p)));
    } catch (e) {
      for (const p of pairs) closePair(p);
      throw e;
    }
    return new RtpPeer(pairs);
  }

  /** The bound RTP ports (even; RTCP is port+1), in binding order. */
  get ports(): number[] {
    return this.pairs.map((p) => p.port);
  }

  /**
   * Starts media once both SDPs are known: our m-lines are matched to our sockets by port;
   * sockets no m-line uses are closed.
   */
  configure(localSdp: string, remoteSdp: string): void {
    const local = parseSdp(localSdp);
    const remote = parseSdp(remoteSdp);
    const used = new Set<SocketPair>();
    local.media.forEach((ours, i) => {
      const theirs = remote.media[i];
      const pair = this.pairs.find((p) => p.port === ours.port);
      if (!pair || (ours.kind !== 'audio' && ours.kind !== 'video')) return;
      used.add(pair);
      const ssrc = Number(
        /^a=ssrc:(\d+)/.exec(ours.lines.find((l) => l.startsWith('a=ssrc:')) ?? '')?.[1] ?? 0,
      );
      const stream: Stream = {
        kind: ours.kind,
        pair,
        ssrc: ssrc || Math.floor(Math.random() * 2 ** 31) + 1,
        recvCodecs: codecsOf(ours),
        sendCodecs: theirs ? codecsOf(theirs) : new Map(),
      };
      const address = addressOf(remoteSdp, i);
      const theirDir = theirs ? directionOf(theirs, remote.sessionLines) : 'inactive';
      if (
        theirs &&
        theirs.port > 0 &&
        address &&
        address !== '0.0.0.0' &&
        (theirDir === 'sendrecv' || theirDir === 'recvonly')
      ) {
        const rtcpAttr = /^a=rtcp:(\d+)/.exec(theirs.lines.find((l) => l.startsWith('a=rtcp:')) ?? '')?.[1];
        const mux = theirs.lines.includes('a=rtcp-mux');
        stream.dest = {
          address,
          rtpPort: theirs.port,
          rtcpPort: mux ? theirs.port : rtcpAttr ? Number(rtcpAttr) : theirs.port + 1,
        };
      }
      this.streams.push(stream);
      pair.rtp.on('message', (buf, from) => this.onPacket(stream, buf, from));
      pair.rtcp.on('message', (buf, from) => this.onRtcp(stream, buf, from));
    });
    for (const p of this.pairs) if (!used.has(p)) closePair(p);
    this.pairs = this.pairs.filter((p) => used.has(p));
  }

  send(kind: MediaKind, rtp: RtpPacket, codec: CodecInfo): void {
    const stream = this.streams.find((s) => s.kind === kind && s.dest);
    if (this._closed || !stream?.dest) return;
    const pt = [...stream.sendCodecs].find(([, c]) => forwardable(codec, c))?.[0];
    if (pt === undefined) {
      this.counters.dropped += 1;
      return;
    }
    const h = rtp.header;
    let out = stream.out;
    if (!out || out.sourceSsrc !== h.ssrc) {
      // A new source: continue our sequence numbers and timestamps where the previous one left off.
      const step = kind === 'video' ? 3000 : 960;
      out = out
        ? {
            sourceSsrc: h.ssrc,
            seqOffset: (out.lastSeq + 1 - h.sequenceNumber) & 0xffff,
            tsOffset: (out.lastTs + step - h.timestamp) >>> 0,
            lastSeq: out.lastSeq,
            lastTs: out.lastTs,
          }
        : { sourceSsrc: h.ssrc, seqOffset: 0, tsOffset: 0, lastSeq: 0, lastTs: 0 };
      stream.out = out;
    }
    h.sequenceNumber = (h.sequenceNumber + out.seqOffset) & 0xffff;
    h.timestamp = (h.timestamp + out.tsOffset) >>> 0;
    out.lastSeq = h.sequenceNumber;
    out.lastTs = h.timestamp;
    h.ssrc = stream.ssrc;
    h.payloadType = pt;
    h.extensions = [];
    h.extension = false;
    this.counters.countOut(kind, rtp);
    stream.pair.rtp.send(rtp.serialize(), stream.dest.rtpPort, stream.dest.address);
  }

  requestKeyframe(kind: MediaKind): void {
    const stream = this.streams.find((s) => s.kind === kind && s.lastRemoteSsrc !== undefined);
    if (this._closed || !stream || stream.lastRemoteSsrc === undefined || !stream.remote) return;
    const pli = new RtcpPayloadSpecificFeedback({
      feedback: new PictureLossIndication({ senderSsrc: stream.ssrc, mediaSsrc: stream.lastRemoteSsrc }),
    });
    const to = stream.dest ? { address: stream.dest.address, port: stream.dest.rtcpPort } : stream.remote;
    stream.pair.rtcp.send(pli.serialize(), to.port, to.address);
  }

  flowing(kind: MediaKind): boolean {
    return this.counters.flowing(kind);
  }

  stats(): RtpStats {
    return this.counters.snapshot();
  }

  /** Closes every socket; idempotent. */
  close(): Promise<void> {
    if (this._closed) return Promise.resolve();
    this._closed = true;
    this.counters.close();
    this.events.removeAllListeners();
    for (const p of this.pairs) closePair(p);
    this.pairs = [];
    return Promise.resolve();
  }

  // --- internals --------------------------------------------------------------------------------

  private onPacket(stream: Stream, buf: Buffer, from: dgram.RemoteInfo): void {
    if (this._closed) return;
    if (isRtcpPacket(buf)) {
      this.onRtcp(stream, buf, from);
      return;
    }
    stream.remote ??= { address: from.address, port: from.port + 1 };
    let rtp: RtpPacket;
    try {
      rtp = RtpPacket.deSerialize(buf);
    } catch {
      return; // not RTP
    }
    if (rtp.header.version !== 2) return;
    this.counters.countIn(stream.kind, rtp);
    stream.lastRemoteSsrc = rtp.header.ssrc;
    const codec = stream.recvCodecs.get(rtp.header.payloadType);
    if (codec && rtp.payload.length > 0) this.events.emit('rtp', stream.kind, rtp, codec);
  }

  private onRtcp(stream: Stream, buf: Buffer, from: dgram.RemoteInfo): void {
    if (this._closed) return;
    stream.remote = { address: from.address, port: from.port };
    let packets;
    try {
      packets = RtcpPacketConverter.deSerialize(buf);
    } catch {
      return;
    }
    for (const p of packets) {
      // PSFB FMT 1 = PLI, FMT 4 = FIR (RFC 4585 §6.3.1, RFC 5104 §4.3.1).
      if (p instanceof RtcpPayloadSpecificFeedback && (p.feedback.count === 1 || p.feedback.count === 4)) {
        this.events.emit('keyframeRequest', stream.kind);
      }
    }
  }
}

function closePair(p: SocketPair): void {
  for (const s of [p.rtp, p.rtcp]) {
    try {
      s.close();
    } catch {
      // already closed
    }
  }
}

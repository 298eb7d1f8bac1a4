/**
 * The real WebRTC peer behind a fake WebRtcEndpoint when the fake KMS carries media: a werift
 * `RTCPeerConnection` (ICE, DTLS, SRTP in pure TypeScript) restricted to one IPv4 address.
 *
 * - ICE on loopback: werift gathers on every interface (and reported 192.0.2.x host candidates in
 *   our sandbox despite `iceInterfaceAddresses`), so only candidates on the configured address are
 *   reported, only remote UDP IPv4 candidates are fed to werift, and candidate pairs are limited
 *   to local candidates on that address. STUN requests from any address are answered: Chromium
 *   gathers no loopback candidate, so its checks come from the host's interface (192.0.2.x here)
 *   to our 127.0.0.1 candidate, which Linux delivers (both addresses are local).
 * - Codecs: opus; VP8 and H.264 constrained baseline (packetization-mode=1), in the order of
 *   {@link WebRtcPeerOptions.videoCodecs}. werift answers with the offer's payload types in the
 *   offer's order, so a browser sends the first one it offered among these (VP8 for Chromium and
 *   Firefox). H.264 offers with packetization-mode 0 are ignored so that every H.264 leg can
 *   carry the same RTP payload.
 * - Forwarding ({@link send}): `RTCRtpSender.sendRtp` rewrites SSRC, payload type and header
 *   extensions; switching to another source keeps sequence numbers and timestamps continuous
 *   (`replaceRTP`). PLI and FIR from the remote peer become `keyframeRequest` events.
 * - The answer keeps werift's ICE credentials and fingerprint but, like KMS, carries no candidate
 *   (trickle ICE: candidates come with `gatherCandidates`) and says `s=Kurento Media Server`.
 */
import { EventEmitter } from 'node:events';

import {
  RTCPeerConnection,
  RtcpPayloadSpecificFeedback,
  type RTCRtpCodecParameters,
  type RTCRtpTransceiver,
  type MediaStreamTrack,
  type RtpPacket,
  useAbsSendTime,
  useFIR,
  useH264,
  useNACK,
  useOPUS,
  usePLI,
  useREMB,
  useSdesMid,
  useTransportWideCC,
  useTWCC,
  useVP8,
} from 'werift';

import {
  type CodecInfo,
  forwardable,
  type MediaKind,
  type MediaPort,
  type MediaPortEvents,
  type RtpStats,
} from './mediaPort.js';
import { RtpCounters } from './RtpCounters.js';

/** Video codecs a fake WebRtcEndpoint can carry (forwarded, never transcoded). */
export type VideoCodecName = 'VP8' | 'H264';

/** Options of {@link WebRtcPeer.answer} / {@link WebRtcPeer.offer}. */
export interface WebRtcPeerOptions {
  /** The only IPv4 address used for ICE (default in FakeKms: 127.0.0.1). */
  address: string;
  /** Accepted video codecs, preferred first. */
  videoCodecs: VideoCodecName[];
  /** WebRtcEndpoint constructor flags: never send / never receive. */
  recvonly?: boolean;
  sendonly?: boolean;
}

/** Connection states of the peer, as werift reports them. */
export interface WebRtcPeerStateEvents {
  /** ICE: new, checking, connected, completed, disconnected, failed, closed. */
  ice: [state: string];
  /** ICE + DTLS: new, connecting, connected, disconnected, failed, closed. */
  connection: [state: string];
}

/** RTCP PSFB feedback message types: Picture Loss Indication (RFC 4585 §6.3.1), Full Intra Request (RFC 5104 §4.3.1). */
const PLI_FMT = 1;
const FIR_FMT = 4;

/** How long {@link WebRtcPeer.localCandidates} waits for werift's gathering at most (ms). */
const GATHER_TIMEOUT_MS = 2000;

const videoFeedback = () => [useNACK(), usePLI(), useFIR(), useREMB(), useTWCC()];

/** werift codec parameters of the supported codecs. */
function codecConfig(videoCodecs: VideoCodecName[]) {
  const video = videoCodecs.map((name) =>
    name === 'VP8'
      ? useVP8({ rtcpFeedback: videoFeedback() })
      : useH264({
          rtcpFeedback: videoFeedback(),
          parameters: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
        }),
  );
  return { audio: [useOPUS()], video };
}

/** The codec facts of a werift codec. */
function codecInfo(c: RTCRtpCodecParameters): CodecInfo {
  return {
    name: c.name.toUpperCase(),
    clockRate: c.clockRate,
    ...(c.channels !== undefined ? { channels: c.channels } : {}),
    ...(c.parameters !== undefined ? { fmtp: c.parameters } : {}),
  };
}

/**
 * Removes, from an offer's m-lines, H.264 payload types that are not packetization-mode=1 (and
 * the rtx payloads tied to them), so that werift's answer only accepts H.264 we can forward as is.
 */
export function restrictOffer(sdp: string): string {
  const lines = sdp.split(/\r?\n/);
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const drop = new Set<string>();
  for (const l of lines) {
    const m = /^a=rtpmap:(\d+) H264\/90000/i.exec(l);
    if (!m?.[1]) continue;
    const fmtp = lines.find((x) => x.startsWith(`a=fmtp:${m[1]} `)) ?? '';
    if (!/packetization-mode=1/.test(fmtp)) drop.add(m[1]);
  }
  for (const l of lines) {
    const m = /^a=fmtp:(\d+) apt=(\d+)/.exec(l);
    if (m?.[1] && m[2] && drop.has(m[2])) drop.add(m[1]);
  }
  if (!drop.size) return sdp;
  return lines
    .map((l) => {
      if (!l.startsWith('m=')) return l;
      const [head, port, proto, ...fmts] = l.split(' ');
      return [head, port, proto, ...fmts.filter((f) => !drop.has(f))].join(' ');
    })
    .join(eol);
}

/** KMS's answers carry no candidate and name the server (see sdpNegotiation.ts). */
function kmsShaped(sdp: string): string {
  const eol = '\r\n';
  return (
    sdp
      .split(/\r?\n/)
      .filter((l) => l.length > 0 && !l.startsWith('a=candidate:') && l !== 'a=end-of-candidates')
      .map((l) => (l.startsWith('s=') ? 's=Kurento Media Server' : l))
      .join(eol) + eol
  );
}

const sends = (d: string | null | undefined): boolean => d === 'sendrecv' || d === 'sendonly';
const receives = (d: string | null | undefined): boolean => d === 'sendrecv' || d === 'recvonly';

/** A werift peer behind one fake WebRtcEndpoint; a {@link MediaPort} of the media router. */
export class WebRtcPeer implements MediaPort {
  readonly events = new EventEmitter<MediaPortEvents>().setMaxListeners(0);
  /** Connection state changes (werift's), for the KMS events of the endpoint. */
  readonly states = new EventEmitter<WebRtcPeerStateEvents>();
  /** The local SDP (KMS-shaped). */
  localSdp = '';
  private readonly pc: RTCPeerConnection;
  private readonly counters: RtpCounters;
  private readonly candidates: string[] = [];
  private readonly lastSourceSsrc = new Map<MediaKind, number>();
  private readonly lastRemoteSsrc = new Map<MediaKind, number>();
  private readonly wired = new Set<object>();
  private gathered: Promise<void> | undefined;
  private _closed = false;

  private constructor(private readonly opts: WebRtcPeerOptions) {
    const address = opts.address;
    this.pc = new RTCPeerConnection({
      codecs: codecConfig(opts.videoCodecs),
      headerExtensions: {
        audio: [useSdesMid()],
        video: [useSdesMid(), useAbsSendTime(), useTransportWideCC()],
      },
      iceServers: [],
      iceUseIpv4: true,
      iceUseIpv6: false,
      iceInterfaceAddresses: { udp4: address },
      iceAdditionalHostAddresses: [address],
      iceFilterCandidatePair: (pair) => pair.protocol.localCandidate?.host === address,
    });
    this.counters = new RtpCounters((kind, flowing) => this.events.emit('flow', kind, flowing));
    this.pc.onIceCandidate.subscribe((c) => {
      if (c && this.usable(c.candidate)) this.candidates.push(c.candidate);
    });
    this.pc.iceConnectionStateChange.subscribe((s) => {
      if (!this._closed) this.states.emit('ice', s);
    });
    this.pc.connectionStateChange.subscribe((s) => {
      if (this._closed) return;
      // A sink that just became able to send needs a keyframe from its source to show a picture.
      if (s === 'connected') this.events.emit('keyframeRequest', 'video');
      this.states.emit('connection', s);
    });
    this.pc.onTrack.subscribe((track) => this.receive(track));
  }

  /**
   * Answers an SDP offer (processOffer). Throws werift's error when the offer is unusable
   * (e.g. "negotiate codecs failed." when no offered codec is supported); the caller falls back.
   */
  static async answer(offer: string, opts: WebRtcPeerOptions): Promise<WebRtcPeer> {
    const peer = new WebRtcPeer(opts);
    try {
      await peer.pc.setRemoteDescription({ type: 'offer', sdp: restrictOffer(offer) });
      for (const t of peer.pc.getTransceivers()) {
        // KMS mirrors the offered direction (sendrecv ↔ sendrecv) unless recvonly/sendonly was asked.
        const offered = t.offerDirection;
        const weSend = sends(offered) && !opts.recvonly;
        const weReceive = receives(offered) && !opts.sendonly;
        t.setDirection(
          weSend && weReceive ? 'sendrecv' : weSend ? 'sendonly' : weReceive ? 'recvonly' : 'inactive',
        );
      }
      await peer.pc.setLocalDescription(await peer.pc.createAnswer());
      peer.localSdp = kmsShaped(peer.pc.localDescription?.sdp ?? '');
      peer.gathered = peer.waitGathering();
      peer.wireSenders();
      return peer;
    } catch (e) {
      await peer.close();
      throw e;
    }
  }

  /** Makes an offer (generateOffer): audio then video, in the direction the endpoint allows. */
  static async offer(
    opts: WebRtcPeerOptions & { offerToReceiveAudio?: boolean; offerToReceiveVideo?: boolean },
  ): Promise<WebRtcPeer> {
    const peer = new WebRtcPeer(opts);
    try {
      const direction = opts.recvonly ? 'recvonly' : opts.sendonly ? 'sendonly' : 'sendrecv';
      if (opts.offerToReceiveAudio !== false) peer.pc.addTransceiver('audio', { direction });
      if (opts.offerToReceiveVideo !== false) peer.pc.addTransceiver('video', { direction });
      await peer.pc.setLocalDescription(await peer.pc.createOffer());
      peer.localSdp = kmsShaped(peer.pc.localDescription?.sdp ?? '');
      peer.gathered = peer.waitGathering();
      peer.wireSenders();
      return peer;
    } catch (e) {
      await peer.close();
      throw e;
    }
  }

  /** Applies the remote answer to {@link offer} (processAnswer). */
  async acceptAnswer(answer: string): Promise<void> {
    await this.pc.setRemoteDescription({ type: 'answer', sdp: restrictOffer(answer) });
    this.wireSenders();
  }

  /** Local host candidates (`candidate:… typ host` lines) once werift finished gathering (≤ 2 s). */
  async localCandidates(): Promise<string[]> {
    await this.gathered;
    if (!this.candidates.length) {
      // werift also writes its candidates into the local description.
      for (const l of (this.pc.localDescription?.sdp ?? '').split(/\r?\n/)) {
        const c = l.startsWith('a=candidate:') ? l.slice(2) : '';
        if (c && this.usable(c) && !this.candidates.includes(c)) this.candidates.push(c);
      }
    }
    return [...this.candidates];
  }

  /**
   * Feeds a remote candidate to werift. Only UDP IPv4 candidates are used (mDNS `.local` names,
   * TCP and IPv6 are ignored); anything werift rejects is ignored too: KMS accepts any string.
   */
  addRemoteCandidate(candidate: string, sdpMid: string | undefined, sdpMLineIndex: number | undefined): void {
    const parts = candidate.replace(/^a=/, '').split(' ');
    if (!/^candidate:/.test(parts[0] ?? '') || parts.length < 8) return;
    if ((parts[2] ?? '').toLowerCase() !== 'udp' || !/^\d+\.\d+\.\d+\.\d+$/.test(parts[4] ?? '')) return;
    this.pc
      .addIceCandidate({
        candidate: parts.join(' '),
        ...(sdpMid !== undefined ? { sdpMid } : {}),
        ...(sdpMLineIndex !== undefined ? { sdpMLineIndex } : {}),
      })
      .catch(() => undefined);
  }

  /** The selected local/remote candidate pair, once ICE connected (for NewCandidatePairSelected). */
  selectedPair(): { local: string; remote: string } | undefined {
    const pair = this.pc.iceTransports[0]?.connection.nominated;
    if (!pair) return undefined;
    return {
      local: `candidate:${pair.localCandidate.toSdp()}`,
      remote: `candidate:${pair.remoteCandidate.toSdp()}`,
    };
  }

  get closed(): boolean {
    return this._closed;
  }

  send(kind: MediaKind, rtp: RtpPacket, codec: CodecInfo): void {
    if (this._closed || this.pc.connectionState !== 'connected') return;
    const t = this.transceiver(kind, sends);
    const match = t?.codecs.find((c) => forwardable(codec, codecInfo(c)));
    if (!t || !match) {
      this.counters.dropped += 1;
      return;
    }
    const sender = t.sender;
    if (sender.codec?.payloadType !== match.payloadType) sender.codec = match;
    const last = this.lastSourceSsrc.get(kind);
    if (last !== undefined && last !== rtp.header.ssrc) {
      // A new source: continue right after the last packet sent (next sequence number, one frame
      // later). Not `replaceRTP(header, true)`: werift 0.24 adds its discontinuity to the
      // timestamp offset with a 16-bit add, which scrambles the timestamps.
      const step = kind === 'video' ? 3000 : 960;
      sender.replaceRTP({
        sequenceNumber: (rtp.header.sequenceNumber - 1) & 0xffff,
        timestamp: (rtp.header.timestamp - step) >>> 0,
      });
    }
    this.lastSourceSsrc.set(kind, rtp.header.ssrc);
    // The source leg's extension ids mean nothing on this leg: werift writes this leg's own.
    rtp.header.extensions = [];
    rtp.header.extension = false;
    sender
      .sendRtp(rtp)
      .then(() => this.counters.countOut(kind, rtp))
      .catch(() => undefined);
  }

  requestKeyframe(kind: MediaKind): void {
    const ssrc = this.lastRemoteSsrc.get(kind);
    const t = this.transceiver(kind, receives);
    if (this._closed || ssrc === undefined || !t) return;
    t.receiver.sendRtcpPLI(ssrc).catch(() => undefined);
  }

  flowing(kind: MediaKind): boolean {
    return this.counters.flowing(kind);
  }

  stats(): RtpStats {
    return this.counters.snapshot();
  }

  /** Closes the werift peer (its UDP sockets and timers); idempotent. */
  async close(): Promise<void> {
    if (this._closed) return;
    this._closed = true;
    this.counters.close();
    this.events.removeAllListeners();
    this.states.removeAllListeners();
    await this.pc.close().catch(() => undefined);
  }

  // --- internals --------------------------------------------------------------------------------

  private usable(candidate: string): boolean {
    const parts = candidate.split(' ');
    return (parts[2] ?? '').toLowerCase() === 'udp' && parts[4] === this.opts.address;
  }

  /**
   * Turns the remote peer's keyframe requests (PLI, FIR) on our video senders into
   * `keyframeRequest` events. Read from the DTLS transport: werift 0.24 routes a PLI by its
   * sender SSRC first, so a Firefox viewer's PLI (sent from the SSRC its recvonly offer announced)
   * reaches werift's receiver, never `RTCRtpSender.onPictureLossIndication`.
   */
  private wireSenders(): void {
    for (const t of this.pc.getTransceivers()) {
      let transport;
      try {
        transport = t.dtlsTransport;
      } catch {
        continue; // not negotiated yet
      }
      if (!transport || this.wired.has(transport)) continue;
      this.wired.add(transport);
      transport.onRtcp.subscribe((p) => {
        if (!(p instanceof RtcpPayloadSpecificFeedback)) return;
        const f = p.feedback;
        const targets =
          f.count === PLI_FMT && 'mediaSsrc' in f
            ? [f.mediaSsrc]
            : f.count === FIR_FMT && 'fir' in f
              ? f.fir.map((e) => e.ssrc)
              : [];
        const videoSsrcs = this.pc
          .getTransceivers()
          .filter((x) => x.kind === 'video')
          .map((x) => x.sender.ssrc);
        if (targets.some((ssrc) => videoSsrcs.includes(ssrc))) this.events.emit('keyframeRequest', 'video');
      });
    }
  }

  private async waitGathering(): Promise<void> {
    if (this.pc.iceGatheringState === 'complete') return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => done(), GATHER_TIMEOUT_MS);
      const { unSubscribe } = this.pc.iceGatheringStateChange.subscribe((s) => {
        if (s === 'complete') done();
      });
      function done(): void {
        clearTimeout(timer);
        unSubscribe();
        resolve();
      }
    });
  }

  private transceiver(
    kind: MediaKind,
    can: (d: string | null | undefined) => boolean,
  ): RTCRtpTransceiver | undefined {
    return this.pc
      .getTransceivers()
      .find((t) => t.kind === kind && !t.stopped && can(t.currentDirection ?? t.direction));
  }

  private receive(track: MediaStreamTrack): void {
    const kind: MediaKind = track.kind === 'audio' ? 'audio' : 'video';
    const t = this.pc.getTransceivers().find((x) => x.receiver.track === track);
    track.onReceiveRtp.subscribe((rtp) => {
      if (this._closed) return;
      this.counters.countIn(kind, rtp);
      this.lastRemoteSsrc.set(kind, rtp.header.ssrc);
      if (rtp.payload.length === 0) return; // padding-only (bandwidth probing): nothing to forward
      const codec = (t ?? this.transceiver(kind, receives))?.codecs.find(
        (c) => c.payloadType === rtp.header.payloadType,
      );
      if (codec) this.events.emit('rtp', kind, rtp, codecInfo(codec));
    });
  }
}

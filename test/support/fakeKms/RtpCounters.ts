/**
 * Per-SSRC packet counters and media-flow detection of one {@link MediaPort}. Flow starts with the
 * first received packet of a kind and stops when none arrived for {@link FLOW_TIMEOUT_MS}: a real
 * KMS reported NOT_FLOWING 2–4 s after media stopped (`real-kms-mixers.summary.json`).
 */
import type { RtpPacket } from 'werift';

import type { MediaKind, RtpStats, RtpStreamStats } from './mediaPort.js';

/** No packet for this long (ms) ends a flow. */
export const FLOW_TIMEOUT_MS = 3000;

/** Counts RTP per SSRC, in and out, and reports flow changes of incoming media. */
export class RtpCounters {
  private readonly received = new Map<number, RtpStreamStats>();
  private readonly sent = new Map<number, RtpStreamStats>();
  private readonly lastIn = new Map<MediaKind, number>();
  private readonly flows = new Set<MediaKind>();
  private timer: NodeJS.Timeout | undefined;
  dropped = 0;

  /** `onFlow` hears every flow change (first packet of a kind; no packet for 3 s). */
  constructor(private readonly onFlow: (kind: MediaKind, flowing: boolean) => void) {}

  /** Counts a packet received from the remote peer. */
  countIn(kind: MediaKind, rtp: RtpPacket): void {
    count(this.received, kind, rtp);
    this.lastIn.set(kind, Date.now());
    if (!this.flows.has(kind)) {
      this.flows.add(kind);
      this.watch();
      this.onFlow(kind, true);
    }
  }

  /** Counts a packet sent to the remote peer (after rewriting: the SSRC of this leg). */
  countOut(kind: MediaKind, rtp: RtpPacket): void {
    count(this.sent, kind, rtp);
  }

  /** Whether `kind` flows in. */
  flowing(kind: MediaKind): boolean {
    return this.flows.has(kind);
  }

  /** A copy of the counters. */
  snapshot(): RtpStats {
    return {
      received: [...this.received.values()].map((s) => ({ ...s })),
      sent: [...this.sent.values()].map((s) => ({ ...s })),
      dropped: this.dropped,
    };
  }

  /** Stops the flow watchdog (no event is emitted). */
  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.flows.clear();
  }

  private watch(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      const now = Date.now();
      for (const kind of [...this.flows]) {
        if (now - (this.lastIn.get(kind) ?? 0) > FLOW_TIMEOUT_MS) {
          this.flows.delete(kind);
          this.onFlow(kind, false);
        }
      }
      if (!this.flows.size) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    }, 500);
    this.timer.unref();
  }
}

function count(map: Map<number, RtpStreamStats>, kind: MediaKind, rtp: RtpPacket): void {
  const ssrc = rtp.header.ssrc;
  let s = map.get(ssrc);
  if (!s) map.set(ssrc, (s = { kind, ssrc, payloadType: rtp.header.payloadType, packets: 0, bytes: 0 }));
  s.payloadType = rtp.header.payloadType;
  s.packets += 1;
  s.bytes += rtp.serializeSize;
}

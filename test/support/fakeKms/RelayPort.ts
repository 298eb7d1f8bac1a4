/**
 * The media port of an element that lets media through unchanged in the fake (a Filter such as
 * FaceOverlayFilter, a PassThrough): what its source sends comes out to its sinks as is, and its
 * sinks' keyframe requests go up to its source. The fake does not filter.
 */
import { EventEmitter } from 'node:events';

import type { RtpPacket } from 'werift';

import type { CodecInfo, MediaKind, MediaPort, MediaPortEvents, RtpStats } from './mediaPort.js';
import { RtpCounters } from './RtpCounters.js';

/** A pass-through {@link MediaPort}: `send` re-emits as `rtp`; `requestKeyframe` re-emits as `keyframeRequest`. */
export class RelayPort implements MediaPort {
  readonly events = new EventEmitter<MediaPortEvents>().setMaxListeners(0);
  private readonly counters = new RtpCounters((kind, flowing) => this.events.emit('flow', kind, flowing));
  private closed = false;

  send(kind: MediaKind, rtp: RtpPacket, codec: CodecInfo): void {
    if (this.closed) return;
    this.counters.countIn(kind, rtp);
    this.events.emit('rtp', kind, rtp, codec);
  }

  requestKeyframe(kind: MediaKind): void {
    if (!this.closed) this.events.emit('keyframeRequest', kind);
  }

  flowing(kind: MediaKind): boolean {
    return this.counters.flowing(kind);
  }

  stats(): RtpStats {
    return this.counters.snapshot();
  }

  /** Idempotent. */
  close(): Promise<void> {
    this.closed = true;
    this.counters.close();
    this.events.removeAllListeners();
    return Promise.resolve();
  }
}

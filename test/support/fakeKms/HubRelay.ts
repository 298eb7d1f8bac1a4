/**
 * The media path of a hub (Composite, AlphaBlending, Dispatcher…) in the fake KMS, which does not
 * mix: every HubPort of the hub puts out the RTP of ONE input of the hub, its "feed", unchanged.
 * The {@link MediaRouter} picks the feed per media kind from the graph (AlphaBlending: the input of
 * its master port; otherwise the first input port connected) and moves it when that input goes
 * away. A switch asks the new feed's source for a keyframe, so viewers of the hub see a picture at once.
 *
 * A real KMS mixes (Composite: a grid of every input at the hub's size — 800×600@15 by default,
 * `width`×`height`@`framerate` when given; AlphaBlending: the master full frame with the other
 * ports' windows over it; audio of all inputs mixed) and transcodes on the way
 * (`/work/shared/kms-protocol/README.md`, scenario 2). The fake forwards the feed's frames at their
 * own size and codec, and the feed's audio only.
 */
import { EventEmitter } from 'node:events';

import type { RtpPacket } from 'werift';

import {
  type CodecInfo,
  MEDIA_KINDS,
  type MediaKind,
  type MediaPort,
  type MediaPortEvents,
  type RtpStats,
} from './mediaPort.js';
import { RtpCounters } from './RtpCounters.js';

/** The {@link MediaPort} of one HubPort: its input goes to the hub, its output is the hub's feed. */
export class HubPortRelay implements MediaPort {
  readonly events = new EventEmitter<MediaPortEvents>().setMaxListeners(0);
  private readonly counters = new RtpCounters((kind, flowing) => this.events.emit('flow', kind, flowing));
  private closed = false;

  constructor(
    /** The HubPort's id. */
    readonly id: string,
    private readonly hub: HubRelay,
  ) {}

  /** RTP from the element connected into this port. */
  send(kind: MediaKind, rtp: RtpPacket, codec: CodecInfo): void {
    if (this.closed) return;
    this.counters.countIn(kind, rtp);
    this.hub.input(this, kind, rtp, codec);
  }

  /** A sink of this port wants a keyframe: ask the hub's feed. */
  requestKeyframe(kind: MediaKind): void {
    if (!this.closed) this.hub.requestKeyframe(kind);
  }

  flowing(kind: MediaKind): boolean {
    return this.counters.flowing(kind);
  }

  stats(): RtpStats {
    return this.counters.snapshot();
  }

  /** Idempotent; the hub forgets the port. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    this.counters.close();
    this.events.removeAllListeners();
    this.hub.forget(this);
    return Promise.resolve();
  }
}

/** One hub's ports and the input each media kind is fed from. */
export class HubRelay {
  private readonly ports = new Map<string, HubPortRelay>();
  private readonly feeds = new Map<MediaKind, string>();

  /** The port of a HubPort of this hub, made on first use. */
  port(portId: string): HubPortRelay {
    let p = this.ports.get(portId);
    if (!p) this.ports.set(portId, (p = new HubPortRelay(portId, this)));
    return p;
  }

  /** Whether the hub has no port left. */
  get empty(): boolean {
    return this.ports.size === 0;
  }

  /**
   * Feeds `kind` from the input of port `portId` (undefined: nothing). A change asks the new feed's
   * source for a keyframe.
   */
  select(kind: MediaKind, portId: string | undefined): void {
    if (this.feeds.get(kind) === portId) return;
    if (portId === undefined) this.feeds.delete(kind);
    else this.feeds.set(kind, portId);
    if (kind === 'video') this.requestKeyframe(kind);
  }

  /** The port feeding each kind (for tests and debugging). */
  feed(kind: MediaKind): string | undefined {
    return this.feeds.get(kind);
  }

  /** @internal RTP that arrived at one port's input: the feed's goes out of every port. */
  input(from: HubPortRelay, kind: MediaKind, rtp: RtpPacket, codec: CodecInfo): void {
    if (this.feeds.get(kind) !== from.id) return;
    for (const p of this.ports.values()) p.events.emit('rtp', kind, rtp, codec);
  }

  /** @internal Passes a keyframe request to the source connected into the feed port. */
  requestKeyframe(kind: MediaKind): void {
    const id = this.feeds.get(kind);
    const feed = id === undefined ? undefined : this.ports.get(id);
    feed?.events.emit('keyframeRequest', kind);
  }

  /** @internal */
  forget(port: HubPortRelay): void {
    if (this.ports.get(port.id) === port) this.ports.delete(port.id);
    for (const kind of MEDIA_KINDS) if (this.feeds.get(kind) === port.id) this.feeds.delete(kind);
  }
}

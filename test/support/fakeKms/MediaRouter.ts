/**
 * Forwards real RTP along the fake KMS's connections: for every (sink, kind) the graph connects,
 * the source element's {@link MediaPort} `rtp` events go to the sink port's `send` (each sink gets
 * its own copy of the packet), and the sink's keyframe requests go back to the source. A new link
 * asks the source for a keyframe at once, so a sink that joins late (or is switched to another
 * source, which KMS does on `connect` of a new source) shows a picture without waiting for the
 * publisher's next periodic keyframe.
 *
 * Any element can be a source or a sink: WebRtcEndpoints and RtpEndpoints attach their peers
 * ({@link attach}); elements for which `relays(id)` is true (filters, PassThrough) get a
 * {@link RelayPort} on demand; a HubPort gets a {@link HubPortRelay} of its hub's {@link HubRelay},
 * which puts out the hub's feed (one input, chosen by `hubs.feed`: see HubRelay.ts). Connections
 * into a sink that a stale disconnect unlinked are not given to the router (MediaGraph.carrying).
 */
import type { RtpPacket } from 'werift';

import { HubRelay } from './HubRelay.js';
import { type CodecInfo, kindOfMediaType, MEDIA_KINDS, type MediaKind, type MediaPort } from './mediaPort.js';
import { RelayPort } from './RelayPort.js';

/** What the router needs to know about hubs. */
export interface HubTopology {
  /** The hub of a HubPort; undefined for anything else. */
  hubOf(elementId: string): string | undefined;
  /** The HubPort whose input feeds `kind` out of every port of the hub, if any. */
  feed(hubId: string, kind: MediaKind): string | undefined;
}

/** A connection as the router needs it (the graph's ConnectionState fits). */
export interface RoutedConnection {
  source: string;
  sink: string;
  type: string;
}

interface Link {
  source: string;
  sourcePort: MediaPort;
  sinkPort: MediaPort;
  dispose: () => void;
}

/** Media ports per element id and the forwarding links between them. */
export class MediaRouter {
  private readonly ports = new Map<string, MediaPort>();
  private readonly links = new Map<string, Link>();
  private readonly hubRelays = new Map<string, HubRelay>();

  /**
   * @param connections the graph's connections that carry media (read at every {@link sync})
   * @param relays whether an element passes media through unchanged (gets a RelayPort)
   * @param hubs hub membership and feed selection
   */
  constructor(
    private readonly connections: () => readonly RoutedConnection[],
    private readonly relays: (elementId: string) => boolean,
    private readonly hubs: HubTopology,
  ) {}

  /** Gives an element its media port (closing a previous one) and wires it to its connections. */
  attach(elementId: string, port: MediaPort): void {
    const old = this.ports.get(elementId);
    if (old && old !== port) this.drop(elementId);
    this.ports.set(elementId, port);
    this.sync();
  }

  /** The media port of an element, if it has one. */
  port(elementId: string): MediaPort | undefined {
    return this.ports.get(elementId);
  }

  /** Closes the ports of released elements and their links. */
  release(elementIds: Iterable<string>): void {
    for (const id of elementIds) this.drop(id);
    for (const [id, hub] of this.hubRelays) if (hub.empty) this.hubRelays.delete(id);
    this.sync();
  }

  /** The HubPort feeding `kind` out of a hub's ports (undefined without media or feed). */
  hubFeed(hubId: string, kind: MediaKind): string | undefined {
    return this.hubRelays.get(hubId)?.feed(kind);
  }

  /**
   * `requestKeyframe` on a sink: its source is asked for a keyframe. Returns false when no video
   * link feeds the sink.
   */
  requestKeyframe(sinkId: string): boolean {
    const link = this.links.get(`${sinkId}|video`);
    link?.sourcePort.requestKeyframe('video');
    return !!link;
  }

  /** Makes the links match the graph's connections (call after every connect / disconnect / release). */
  sync(): void {
    const wanted = new Map<string, { source: string; sink: string; kind: MediaKind }>();
    for (const c of this.connections()) {
      const kind = kindOfMediaType(c.type);
      if (kind) wanted.set(`${c.sink}|${kind}`, { source: c.source, sink: c.sink, kind });
    }
    for (const [key, link] of this.links) {
      const w = wanted.get(key);
      const sinkId = key.slice(0, key.lastIndexOf('|'));
      if (
        !w ||
        w.source !== link.source ||
        this.ports.get(link.source) !== link.sourcePort ||
        this.ports.get(sinkId) !== link.sinkPort
      ) {
        link.dispose();
        this.links.delete(key);
      }
    }
    for (const [key, w] of wanted) {
      if (this.links.has(key)) continue;
      const sourcePort = this.portOrRelay(w.source);
      const sinkPort = this.portOrRelay(w.sink);
      if (sourcePort && sinkPort) this.links.set(key, this.link(w.source, sourcePort, sinkPort, w.kind));
    }
    for (const [hubId, hub] of this.hubRelays) {
      for (const kind of MEDIA_KINDS) hub.select(kind, this.hubs.feed(hubId, kind));
    }
  }

  /** Closes every port (werift peers, UDP sockets); idempotent. */
  async close(): Promise<void> {
    for (const link of this.links.values()) link.dispose();
    this.links.clear();
    const ports = [...this.ports.values()];
    this.ports.clear();
    this.hubRelays.clear();
    await Promise.all(ports.map((p) => p.close()));
  }

  private portOrRelay(id: string): MediaPort | undefined {
    let port = this.ports.get(id);
    if (port) return port;
    const hubId = this.hubs.hubOf(id);
    if (hubId !== undefined) {
      let hub = this.hubRelays.get(hubId);
      if (!hub) this.hubRelays.set(hubId, (hub = new HubRelay()));
      this.ports.set(id, (port = hub.port(id)));
    } else if (this.relays(id)) this.ports.set(id, (port = new RelayPort()));
    return port;
  }

  private link(source: string, sourcePort: MediaPort, sinkPort: MediaPort, kind: MediaKind): Link {
    const onRtp = (k: MediaKind, rtp: RtpPacket, codec: CodecInfo): void => {
      if (k === kind) sinkPort.send(kind, rtp.clone(), codec);
    };
    const onKeyframe = (k: MediaKind): void => {
      if (k === kind) sourcePort.requestKeyframe(kind);
    };
    sourcePort.events.on('rtp', onRtp);
    sinkPort.events.on('keyframeRequest', onKeyframe);
    if (kind === 'video') sourcePort.requestKeyframe(kind);
    return {
      source,
      sourcePort,
      sinkPort,
      dispose: () => {
        sourcePort.events.off('rtp', onRtp);
        sinkPort.events.off('keyframeRequest', onKeyframe);
      },
    };
  }

  private drop(id: string): void {
    const port = this.ports.get(id);
    if (!port) return;
    this.ports.delete(id);
    for (const [key, link] of this.links) {
      if (link.sourcePort === port || link.sinkPort === port) {
        link.dispose();
        this.links.delete(key);
      }
    }
    void port.close();
  }
}

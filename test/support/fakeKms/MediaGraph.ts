/**
 * The state of the fake KMS: media objects, connections between elements, event subscriptions,
 * and a simple model of which media flows where (for MediaFlowIn/OutStateChanged events).
 *
 * Protocol facts it mirrors (all from `/work/shared/kms-protocol/real-kms-scenario.jsonl`):
 * - ids: `<uuid>_kurento.MediaPipeline`, children `<pipelineId>/<uuid>_kurento.<Type>`, and HubPorts
 *   under their hub: `<hubId>/<uuid>_kurento.HubPort` (requests 5, 6, 74, 75);
 * - `connect` without mediaType creates AUDIO, DATA and VIDEO connections, listed by
 *   getSinkConnections / getSourceConnections as `ElementConnectionData` with descriptions
 *   `"default"` (requests 105, 106);
 * - a sink element has ONE source per media type: connecting a new source to it replaces the old
 *   connection on both sides. (The README says getSourceConnections "still lists the old
 *   connections"; the recording says otherwise: the viewer was connected from the publisher, a
 *   Composite port, an AlphaBlending port and then the FaceOverlayFilter, and
 *   getSourceConnections (106) lists only the FaceOverlayFilter — 3 entries — while the
 *   publisher's getSinkConnections (105) no longer lists the viewer: 9 entries.)
 * - switching, from `/work/shared/kms-protocol/real-kms-mixers.jsonl`: after `newSource.connect(sink)`
 *   the sink lists only the new source and the old source no longer lists the sink (requests 128–132);
 *   then `oldSource.disconnect(sink)` UNLINKS the sink: it lists no source (133–134, 176–177) and got
 *   no media again in that run, not even from later connects (the summary's `browser` figures: 0 fps
 *   for the viewer from then on), while the new source keeps listing it (263 lists pub → viewer even
 *   after an explicit pub.disconnect(viewer) at 182). The fake keeps such a connection as
 *   `unlinked`: listed by the source's getSinkConnections only, carrying nothing, gone when either
 *   end is released; the sink is remembered in {@link MediaGraph.unlinkedSinks} and never receives
 *   media again.
 * - `disconnect` of elements that are not connected answers null (mixers 146, 147).
 * - What the fake does NOT reproduce: right after `release` of a connected element, a real KMS may
 *   still list it in the other side's connections (mixers 138, 263); the fake drops the connections
 *   at once.
 * - events: `{"method":"onEvent","params":{"value":{"data":{…,"source","tags":[],"timestampMillis",
 *   "type"},"object","type"}}}`, sent only to sessions subscribed to that object and event type.
 */
import { randomUUID } from 'node:crypto';

import type { SdpIdentity } from './sdpNegotiation.js';

/** The media kinds whose flow is modelled. */
export type FlowKind = 'AUDIO' | 'VIDEO';
/** A KMS MediaType. */
export type MediaType = 'AUDIO' | 'DATA' | 'VIDEO';

const MEDIA_TYPES: MediaType[] = ['AUDIO', 'DATA', 'VIDEO'];
const FLOW_KINDS: FlowKind[] = ['AUDIO', 'VIDEO'];

/** SDP negotiation state of an SdpEndpoint. */
export interface SdpState {
  identity: SdpIdentity;
  local?: string;
  remote?: string;
  /** We generated an offer (generateOffer) and wait for / processed the answer. */
  offerer: boolean;
  /** Media kinds the remote peer sends to us, once negotiated. */
  remoteSends: Set<FlowKind>;
  /** Accepted m-lines of the negotiated session: their `a=mid` and index (for ICE candidates). */
  mlines: Array<{ mid: string; index: number }>;
}

/** ICE state of a WebRtcEndpoint. */
export interface IceState {
  gathering: 'new' | 'gathering' | 'done';
  localCandidate?: string;
  remoteCandidate?: string;
  connected: boolean;
  ports: number[];
}

/** What `AlphaBlending.setMaster` / `setPortProperties` set (kmd: elements.AlphaBlending.kmd.json). */
export interface AlphaBlendingLayout {
  master?: { port: string; zOrder: number };
  ports: Map<
    string,
    { relativeX: number; relativeY: number; zOrder: number; relativeWidth: number; relativeHeight: number }
  >;
}

/** `FaceOverlayFilter.setOverlayedImage` params (kmd: filters.FaceOverlayFilter.kmd.json; ratios of the face box). */
export interface OverlayedImage {
  uri: string;
  offsetXPercent: number;
  offsetYPercent: number;
  widthPercent: number;
  heightPercent: number;
}

/** One media object. */
export interface MediaObjectState {
  id: string;
  type: string;
  /** The pipeline of an element or hub; undefined for a pipeline and the ServerManager. */
  pipeline?: string;
  /** The parent object (pipeline, or hub for a HubPort). */
  parent?: string;
  creationTime: number;
  ctorParams: Record<string, unknown>;
  props: Map<string, unknown>;
  tags: Map<string, string>;
  sdp?: SdpState;
  ice?: IceState;
  uriState?: 'STOP' | 'START' | 'PAUSE';
  /** An AlphaBlending's layout: the master port and the properties set per port. */
  layout?: AlphaBlendingLayout;
  /** A FaceOverlayFilter's image, as last set by `setOverlayedImage` (undefined after `unsetOverlayedImage`). */
  overlay?: OverlayedImage;
  flowIn: Set<FlowKind>;
  flowOut: Set<FlowKind>;
}

/** A connection between a source and a sink element for one media type. */
export interface ConnectionState {
  source: string;
  sink: string;
  type: MediaType;
  sourceDescription: string;
  sinkDescription: string;
  /**
   * Set when a stale disconnect unlinked the sink (see the file header): the source still lists the
   * connection, the sink does not, and no media crosses it.
   */
  unlinked?: true;
}

/** An event subscription of a session. */
export interface Subscription {
  id: string;
  sessionId: string;
  object: string;
  type: string;
}

/** The onEvent notification frame. */
export interface EventNotification {
  jsonrpc: '2.0';
  method: 'onEvent';
  params: { value: { data: Record<string, unknown>; object: string; type: string } };
}

/** Receives every event notification addressed to a session. */
export type EventSink = (sessionId: string, notification: EventNotification) => void;

/** Type predicates the graph needs from the kmd model. */
export interface TypeOracle {
  isA(type: string, base: string): boolean;
}

/** Objects, connections, subscriptions and media flow of one (fake) KMS process. */
export class MediaGraph {
  readonly objects = new Map<string, MediaObjectState>();
  connections: ConnectionState[] = [];
  readonly subscriptions = new Map<string, Subscription>();
  /** Sinks unlinked by `oldSource.disconnect(sink)` after a switch: they never receive media again. */
  readonly unlinkedSinks = new Set<string>();
  /** Per sink, the sources a switch (`connect` of another source) replaced and that were not reconnected. */
  private readonly replacedSources = new Map<string, Set<string>>();

  constructor(
    private readonly types: TypeOracle,
    private readonly sink: EventSink,
  ) {}

  /** Adds an object with a fresh id shaped like KMS's (see file header). */
  add(
    type: string,
    parent: MediaObjectState | undefined,
    ctorParams: Record<string, unknown>,
  ): MediaObjectState {
    const local = `${randomUUID()}_kurento.${type}`;
    const obj: MediaObjectState = {
      id: parent ? `${parent.id}/${local}` : local,
      type,
      creationTime: Math.floor(Date.now() / 1000),
      ctorParams,
      props: new Map(),
      tags: new Map(),
      flowIn: new Set(),
      flowOut: new Set(),
      ...(parent ? { parent: parent.id, pipeline: parent.pipeline ?? parent.id } : {}),
    };
    this.objects.set(obj.id, obj);
    return obj;
  }

  /** Registers an object with a fixed id (the ServerManager). */
  addFixed(id: string, type: string): MediaObjectState {
    const obj: MediaObjectState = {
      id,
      type,
      creationTime: Math.floor(Date.now() / 1000),
      ctorParams: {},
      props: new Map(),
      tags: new Map(),
      flowIn: new Set(),
      flowOut: new Set(),
    };
    this.objects.set(id, obj);
    return obj;
  }

  /** Removes an object and all its descendants (ids under `<id>/`), their connections and subscriptions. */
  remove(id: string): string[] {
    const gone = [...this.objects.keys()].filter((k) => k === id || k.startsWith(`${id}/`));
    const set = new Set(gone);
    for (const k of gone) this.objects.delete(k);
    this.connections = this.connections.filter((c) => !set.has(c.source) && !set.has(c.sink));
    for (const [sid, s] of this.subscriptions) if (set.has(s.object)) this.subscriptions.delete(sid);
    for (const k of gone) {
      this.unlinkedSinks.delete(k);
      this.replacedSources.delete(k);
    }
    for (const sources of this.replacedSources.values()) for (const k of gone) sources.delete(k);
    return gone;
  }

  /** Direct children of an object. */
  children(id: string): string[] {
    return [...this.objects.values()].filter((o) => o.parent === id).map((o) => o.id);
  }

  /**
   * Connects `source` to `sink` for the given media types. The sink's previous source for the
   * same type and sink description is disconnected first (as the recordings show); an `unlinked`
   * connection from the same source is replaced too. Returns the replaced connections of other
   * sources (remembered: disconnecting one of them later unlinks the sink, see {@link disconnect}).
   */
  connect(
    source: string,
    sink: string,
    types: MediaType[] = MEDIA_TYPES,
    sourceDescription = 'default',
    sinkDescription = 'default',
  ): ConnectionState[] {
    const replaced: ConnectionState[] = [];
    for (const type of types) {
      this.connections = this.connections.filter((c) => {
        if (c.sink !== sink || c.type !== type || c.sinkDescription !== sinkDescription) return true;
        if (c.unlinked && c.source !== source) return true;
        if (!c.unlinked) replaced.push(c);
        return false;
      });
      this.connections.push({ source, sink, type, sourceDescription, sinkDescription });
    }
    const switchedFrom = replaced.filter((c) => c.source !== source);
    const stale = this.replacedSources.get(sink) ?? new Set<string>();
    for (const c of switchedFrom) stale.add(c.source);
    stale.delete(source);
    if (stale.size) this.replacedSources.set(sink, stale);
    else this.replacedSources.delete(sink);
    return switchedFrom;
  }

  /**
   * Removes connections from `source` to `sink` (optionally one type / descriptions). When there
   * is none but a switch replaced `source` on `sink`, the sink's current connections of those
   * types become `unlinked` (see the file header) and are returned in `unlinked`. An `unlinked`
   * connection is never removed by a disconnect (recorded: mixers 182, 263).
   */
  disconnect(
    source: string,
    sink: string,
    type?: MediaType,
    sourceDescription?: string,
    sinkDescription?: string,
  ): { removed: ConnectionState[]; unlinked: ConnectionState[] } {
    const removed: ConnectionState[] = [];
    const intoSink = (c: ConnectionState): boolean =>
      c.sink === sink &&
      (type === undefined || c.type === type) &&
      (sinkDescription === undefined || c.sinkDescription === sinkDescription);
    this.connections = this.connections.filter((c) => {
      const hit =
        !c.unlinked &&
        c.source === source &&
        intoSink(c) &&
        (sourceDescription === undefined || c.sourceDescription === sourceDescription);
      if (hit) removed.push(c);
      return !hit;
    });
    const unlinked: ConnectionState[] = [];
    const stale = this.replacedSources.get(sink);
    if (!removed.length && stale?.has(source)) {
      stale.delete(source);
      for (const c of this.connections) {
        if (c.unlinked || !intoSink(c)) continue;
        c.unlinked = true;
        unlinked.push(c);
      }
      this.unlinkedSinks.add(sink);
    }
    return { removed, unlinked };
  }

  /**
   * Connections where `id` is the source (`side: 'sinks'` lists its sinks, `unlinked` ones included,
   * as a real KMS does) or the sink (`side: 'sources'`, without `unlinked` ones).
   */
  connectionsOf(
    id: string,
    side: 'sinks' | 'sources',
    type?: MediaType,
    description?: string,
  ): ConnectionState[] {
    const out = this.connections.filter((c) =>
      side === 'sinks'
        ? c.source === id && (description === undefined || c.sourceDescription === description)
        : c.sink === id && !c.unlinked && (description === undefined || c.sinkDescription === description),
    );
    return out
      .filter((c) => type === undefined || c.type === type)
      .sort((a, b) => MEDIA_TYPES.indexOf(a.type) - MEDIA_TYPES.indexOf(b.type));
  }

  /** The connections that carry media: not `unlinked`, and not into an unlinked sink. */
  carrying(): ConnectionState[] {
    return this.connections.filter((c) => !c.unlinked && !this.unlinkedSinks.has(c.sink));
  }

  /** Adds a subscription and returns its id (a uuid, as recorded). */
  subscribe(sessionId: string, object: string, type: string): string {
    const id = randomUUID();
    this.subscriptions.set(id, { id, sessionId, object, type });
    return id;
  }

  /** Removes a subscription of a session (unknown ids are ignored, like KMS). */
  unsubscribe(sessionId: string, subscription: string): void {
    const s = this.subscriptions.get(subscription);
    if (s && s.sessionId === sessionId) this.subscriptions.delete(subscription);
  }

  /** Sends an event of `objectId` to every session subscribed to it (one notification per subscription). */
  emit(objectId: string, type: string, data: Record<string, unknown> = {}): void {
    const obj = this.objects.get(objectId);
    const sendTags = obj?.props.get('sendTagsInEvents') === true;
    const tags = sendTags
      ? [...(obj?.tags ?? new Map<string, string>())].map(([key, value]) => ({
          __module__: 'kurento',
          __type__: 'Tag',
          key,
          value,
        }))
      : [];
    for (const s of this.subscriptions.values()) {
      if (s.object !== objectId || s.type !== type) continue;
      this.sink(s.sessionId, {
        jsonrpc: '2.0',
        method: 'onEvent',
        params: {
          value: {
            data: { source: objectId, tags, timestampMillis: String(Date.now()), type, ...data },
            object: objectId,
            type,
          },
        },
      });
    }
  }

  /**
   * Recomputes which media flows into / out of every element and emits MediaFlowInStateChanged /
   * MediaFlowOutStateChanged (`{mediaType, padName: "default", state: FLOWING|NOT_FLOWING}`, as
   * recorded) for every change. Media originates at endpoints whose remote peer sends it
   * (`origin`), crosses connections, passes through filters / PassThrough, and a hub mixes the
   * input of all its ports into the output of every port.
   */
  recomputeFlows(origin: (obj: MediaObjectState) => Set<FlowKind>): void {
    const out = new Map<string, Set<FlowKind>>();
    const inn = new Map<string, Set<FlowKind>>();
    const setOf = (m: Map<string, Set<FlowKind>>, id: string): Set<FlowKind> => {
      let s = m.get(id);
      if (!s) m.set(id, (s = new Set()));
      return s;
    };
    for (const o of this.objects.values()) for (const k of origin(o)) setOf(out, o.id).add(k);
    const passes = (o: MediaObjectState): boolean =>
      this.types.isA(o.type, 'Filter') || this.types.isA(o.type, 'PassThrough');
    let changed = true;
    while (changed) {
      changed = false;
      const add = (m: Map<string, Set<FlowKind>>, id: string, k: FlowKind): void => {
        const s = setOf(m, id);
        if (!s.has(k)) {
          s.add(k);
          changed = true;
        }
      };
      for (const c of this.carrying()) {
        if (c.type !== 'DATA' && out.get(c.source)?.has(c.type)) add(inn, c.sink, c.type);
      }
      for (const o of this.objects.values()) {
        if (passes(o)) for (const k of inn.get(o.id) ?? []) add(out, o.id, k);
        if (o.type === 'HubPort' && o.parent) {
          for (const p of this.objects.values()) {
            if (p.type === 'HubPort' && p.parent === o.parent)
              for (const k of inn.get(p.id) ?? []) add(out, o.id, k);
          }
        }
      }
    }
    for (const o of this.objects.values()) {
      this.diffFlow(o, 'flowIn', inn.get(o.id) ?? new Set(), 'MediaFlowInStateChanged');
      this.diffFlow(o, 'flowOut', out.get(o.id) ?? new Set(), 'MediaFlowOutStateChanged');
    }
  }

  private diffFlow(
    o: MediaObjectState,
    key: 'flowIn' | 'flowOut',
    now: Set<FlowKind>,
    event: 'MediaFlowInStateChanged' | 'MediaFlowOutStateChanged',
  ): void {
    for (const k of FLOW_KINDS) {
      const was = o[key].has(k);
      const is = now.has(k);
      if (was === is) continue;
      if (is) o[key].add(k);
      else o[key].delete(k);
      this.emit(o.id, event, { mediaType: k, padName: 'default', state: is ? 'FLOWING' : 'NOT_FLOWING' });
    }
  }
}

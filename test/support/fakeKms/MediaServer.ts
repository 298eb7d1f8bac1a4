/**
 * The JSON-RPC methods of a (fake) Kurento Media Server 7.3 — what KMS's `ServerMethods.cpp`
 * does — over a {@link MediaGraph}, validated generically against the kmd model.
 *
 * Facts mirrored, and where they come from:
 * - `/work/shared/kms-protocol/real-kms-scenario.jsonl` (the recording of kurento-client 7.3.0 ↔
 *   KMS 7.3.1): result shapes (`{value, sessionId}`; `release` → `{sessionId}`; `describe` →
 *   `{hierarchy, qualifiedType, sessionId, type}`; `ping` → `{value: "pong"}` plus `sessionId`
 *   only when the request carried one), `getInfo`'s ServerInfo, getPipelines as a list of ids,
 *   the IceCandidate / ElementConnectionData complex types, and the errors:
 *   40001 MARSHALL_ERROR for a RemoteClass param sent as an object (87, 88),
 *   40004 CONNECT_ERROR "Media elements do not share pipeline" for a cross-pipeline connect (102;
 *   the summary file's `"crossPipelineConnect": "accepted"` contradicts the frames — the frames win),
 *   40101 "Object '<id>' not found" when invoking a released object (108; the summary's
 *   `"errReleased": "no error"` contradicts the frames too), 40201 "Invalid SDP" (99);
 *   `addIceCandidate` accepts any candidate string (104).
 * - KMS sources (ServerMethods.cpp, JsonRpcUtils.cpp, ModuleManager.cpp, KurentoException.hpp) for
 *   what the recording does not show: `create` of an unknown type → 40108 MEDIA_OBJECT_NOT_AVAILABLE
 *   "Factory '<type>' not found"; a missing/ill-typed top-level param (`object`, `type`,
 *   `operation`…) → -32000 "'<name>' parameter is required" / "… should be a string" without data;
 *   `connect {sessionId}` of an unknown session → 40007 INVALID_SESSION (kurento-client then emits
 *   `reconnected(false)`); `transaction` with `newref:<n>` references; subscribe to an event the
 *   class does not have → 40106 "Event not found"; an unknown operation → 40105 "Method '<op>' not found".
 * - `real-kms-scenario.summary.json`'s "errCreateUnknown: Unknown type '[object Object]'" is a
 *   kurento-client-side SyntaxError (MediaObjectCreator's getConstructor), never sent to KMS.
 *
 * With `media`, SDP endpoints get real media ports (werift peers, UDP sockets) wired by a
 * {@link MediaRouter}; the SDP checks and errors above stay the same (a non-SDP is still 40201
 * before any peer is made). See FakeKms.ts's header for what is and is not modelled.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';

import { KmdModel, type KmdParamDef } from './KmdModel.js';
import { JSONRPC_ERROR_CODES, KmsError } from './KmsError.js';
import {
  type AlphaBlendingLayout,
  type EventSink,
  type FlowKind,
  MediaGraph,
  type MediaObjectState,
  type MediaType,
} from './MediaGraph.js';
import { MEDIA_KINDS, mediaTypeOfKind, type MediaPort, type RtpStats } from './mediaPort.js';
import { MediaRouter } from './MediaRouter.js';
import { RtpPeer } from './RtpPeer.js';
import {
  buildRtpAnswer,
  buildRtpOffer,
  buildWebRtcAnswer,
  buildWebRtcOffer,
  directionOf,
  mediaTypeOf,
  mirror,
  newIdentity,
  parseSdp,
  type ParsedSdp,
  sends,
} from './sdpNegotiation.js';
import { type VideoCodecName, WebRtcPeer } from './WebRtcPeer.js';

/** Options of the media server model. */
export interface MediaServerOptions {
  /** Address in RtpEndpoint SDP `o=`/`c=` lines. */
  rtpAddress: string;
  /** Address of the ICE candidates a WebRtcEndpoint reports (the recording shows 127.0.0.1). */
  iceAddress: string;
  /** Simulate ICE connection and media flow events (default true). */
  simulateMedia: boolean;
  /** The DTLS certificate fingerprint of this "process". */
  fingerprint: string;
  /**
   * Carry real media (werift peers behind WebRtcEndpoints, UDP sockets behind RtpEndpoints, RTP
   * forwarded along connections); undefined: SDP and events only. See FakeKms.ts's header.
   */
  media?: { videoCodecs: VideoCodecName[] };
}

/** A call that would have crashed a real KMS (answered {@link KmsError.wouldCrash} instead). */
export interface CrashingCall {
  /** The object invoked, e.g. an AlphaBlending's id. */
  object: string;
  operation: string;
  /** The operation's params as received. */
  params: Record<string, unknown>;
  /** The error message answered (says why a real KMS would have crashed). */
  message: string;
}

/** JSON object params of a request. */
type Params = Record<string, unknown>;

/** An operation implementation: gets the object and its validated params, returns the `value`. */
type Handler = (obj: MediaObjectState, args: Params, sessionId: string) => unknown;

/** The ServerManager's fixed id (recorded). */
export const SERVER_MANAGER_ID = 'manager_ServerManager';

/** Server/module versions and generation times as reported by the recorded KMS (`getInfo`, request 3). */
const SERVER_VERSION = '7.3.1-dev';
const GENERATION_TIMES: Record<string, string> = {
  core: 'Nov 23 2026 01:30:19',
  elements: 'Nov 23 2026 01:31:29',
  filters: 'Nov 23 2026 01:32:02',
};

/** KMS's default values of some properties (kmd gives types only); others answer the type's zero value. */
const PROPERTY_DEFAULTS: Record<string, unknown> = {
  sendTagsInEvents: false,
  minVideoSendBandwidth: 100,
  maxVideoSendBandwidth: 500,
  minVideoRecvBandwidth: 0,
  maxVideoRecvBandwidth: 0,
  maxAudioRecvBandwidth: 0,
  encoderBitrate: 300000,
  minEncoderBitrate: 0,
  maxEncoderBitrate: 0,
  mtu: 1200,
  stunServerPort: 3478,
  networkInterfaces: 'all',
};

/**
 * Operations whose media-object params a real KMS does not type-check before using them: the id of
 * an object of another class reaches the implementation as a null pointer (or a port of another
 * hub), and `AlphaBlendingImpl::setMaster` dies of it (README, scenario 2: SIGSEGV). The handlers
 * check the id themselves and answer {@link KmsError.wouldCrash}.
 */
const UNCHECKED_OBJECT_PARAMS = new Set(['AlphaBlending.setMaster', 'AlphaBlending.setPortProperties']);

/** The order of KMS's ElementConnected / ElementDisconnected events for a connect of every type (recorded, mixers 82, 182). */
const CONNECT_ORDER: MediaType[] = ['AUDIO', 'VIDEO', 'DATA'];

const debug = process.env.FAKE_KMS_DEBUG === '1';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const isObject = (v: unknown): v is Params => !!v && typeof v === 'object' && !Array.isArray(v);

/** Reads a top-level string param like `JsonRpc::getValue` (KMS JsonRpcUtils.cpp). */
function getString(params: Params, name: string): string {
  if (!(name in params)) throw KmsError.rpc(`'${name}' parameter is required`);
  const v = params[name];
  // jsoncpp's isConvertibleTo(stringValue): strings, numbers, booleans and null convert; objects don't.
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === null) return '';
  throw KmsError.rpc(`'${name}' parameter should be a string`);
}

/** The JSON-RPC method semantics of KMS 7.3 over an in-memory media graph. */
export class MediaServer {
  readonly kmd: KmdModel;
  readonly graph: MediaGraph;
  /** Sessions this process has issued or seen (a new process knows none: `connect` → 40007). */
  readonly sessions = new Set<string>();
  private readonly handlers = new Map<string, Handler>();
  private readonly serverId = randomUUID();
  private nextPort: number;
  private readonly usedPorts = new Set<number>();
  /** Forwards RTP between elements' media ports (only with `media`). */
  private readonly router: MediaRouter | undefined;
  private readonly webrtcPeers = new Map<string, WebRtcPeer>();
  private readonly rtpPeers = new Map<string, RtpPeer>();
  /** Endpoints whose processOffer / generateOffer is awaiting werift or socket binding. */
  private readonly negotiating = new Set<string>();
  /** Remote ICE candidates that arrived before the endpoint's werift peer existed. */
  private readonly earlyCandidates = new Map<
    string,
    Array<{ candidate: string; sdpMid?: string; index?: number }>
  >();
  private closed = false;

  constructor(
    private readonly opts: MediaServerOptions,
    sink: EventSink,
    private readonly onCrashingCall: (call: CrashingCall) => void = () => undefined,
  ) {
    this.kmd = KmdModel.load();
    this.graph = new MediaGraph(this.kmd, sink);
    this.graph.addFixed(SERVER_MANAGER_ID, 'ServerManager');
    this.nextPort = 20000 + 2 * Math.floor(Math.random() * 15000);
    this.router = opts.media
      ? new MediaRouter(
          () => this.graph.carrying(),
          (id) => {
            const type = this.graph.objects.get(id)?.type;
            return !!type && (this.kmd.isA(type, 'Filter') || this.kmd.isA(type, 'PassThrough'));
          },
          {
            hubOf: (id) => {
              const o = this.graph.objects.get(id);
              return o?.type === 'HubPort' ? o.parent : undefined;
            },
            feed: (hubId, kind) => this.hubFeed(hubId, mediaTypeOfKind(kind)),
          },
        )
      : undefined;
    this.registerHandlers();
  }

  /** Packet counters of an element's media port (undefined without media or before negotiation). */
  rtpStats(objectId: string): RtpStats | undefined {
    return this.router?.port(objectId)?.stats();
  }

  /**
   * The HubPort whose input a hub forwards out of all its ports (the fake does not mix, see
   * HubRelay.ts): for an AlphaBlending its master port when something is connected into it, else
   * (and for a Composite) the port whose input was connected first and still is.
   */
  hubFeed(hubId: string, type: MediaType): string | undefined {
    const inputs = this.graph
      .carrying()
      .filter((c) => c.type === type && this.graph.objects.get(c.sink)?.parent === hubId)
      .map((c) => c.sink);
    const master = this.graph.objects.get(hubId)?.layout?.master?.port;
    return master !== undefined && inputs.includes(master) ? master : inputs[0];
  }

  /** Closes every werift peer and UDP socket (the "process" exits); idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    this.webrtcPeers.clear();
    this.rtpPeers.clear();
    await this.router?.close();
  }

  /** Creates a pipeline with no session (e.g. left over from a previous run of the app). */
  createPipeline(): string {
    const obj = this.graph.add('MediaPipeline', undefined, {});
    this.graph.emit(SERVER_MANAGER_ID, 'ObjectCreated', { object: obj.id });
    return obj.id;
  }

  /**
   * Handles one request and returns the `result` member, or throws a {@link KmsError}.
   * `params` already carries the connection's `sessionId` when the transport injected it.
   */
  async handle(method: string, params: unknown): Promise<unknown> {
    switch (method) {
      case 'ping':
        return this.ping(params);
      case 'describe':
        return this.describe(this.requireParams(params));
      case 'create':
        return this.create(this.requireParams(params));
      case 'invoke':
        return this.invoke(this.requireParams(params));
      case 'subscribe':
        return this.subscribe(this.requireParams(params));
      case 'unsubscribe':
        return this.unsubscribe(this.requireParams(params));
      case 'release':
        return this.release(this.requireParams(params));
      case 'ref':
      case 'unref': {
        const p = this.requireParams(params);
        this.lookup(getString(p, 'object'));
        return { sessionId: getString(p, 'sessionId') };
      }
      case 'keepAlive': {
        const p = this.requireParams(params);
        const sessionId = getString(p, 'sessionId');
        this.keepAlive(sessionId);
        return { sessionId };
      }
      case 'connect':
        return this.connectSession(params);
      case 'closeSession': {
        getString(this.requireParams(params), 'sessionId');
        return null;
      }
      case 'transaction':
        return this.transaction(this.requireParams(params));
      default:
        throw KmsError.rpc('Method not found.', JSONRPC_ERROR_CODES.METHOD_NOT_FOUND);
    }
  }

  // --- JSON-RPC methods -------------------------------------------------------------------------

  private requireParams(params: unknown): Params {
    if (!isObject(params)) {
      throw new KmsError(JSONRPC_ERROR_CODES.INVALID_PARAMS, "'params' is requiered", {
        type: 'INVALID_PARAMS',
      });
    }
    return params;
  }

  private session(params: Params): string {
    const given = params.sessionId;
    const id = typeof given === 'string' && given !== '' ? given : randomUUID();
    this.sessions.add(id);
    return id;
  }

  private ping(params: unknown): unknown {
    const sessionId = isObject(params) ? params.sessionId : undefined;
    return typeof sessionId === 'string' ? { sessionId, value: 'pong' } : { value: 'pong' };
  }

  private keepAlive(sessionId: string): void {
    if (!this.sessions.has(sessionId)) throw KmsError.kurento('INVALID_SESSION', 'Invalid session');
  }

  private connectSession(params: unknown): unknown {
    let sessionId: string;
    if (isObject(params) && typeof params.sessionId === 'string') {
      sessionId = params.sessionId;
      this.keepAlive(sessionId);
    } else {
      sessionId = randomUUID();
      this.sessions.add(sessionId);
    }
    return { serverId: this.serverId, sessionId };
  }

  private lookup(id: string): MediaObjectState {
    const obj = this.graph.objects.get(id);
    if (!obj) throw KmsError.objectNotFound(id);
    return obj;
  }

  private describe(params: Params): unknown {
    const sessionId = this.session(params);
    const obj = this.lookup(getString(params, 'object'));
    return {
      hierarchy: this.kmd.hierarchy(obj.type),
      qualifiedType: `kurento.${obj.type}`,
      sessionId,
      type: obj.type,
    };
  }

  private typeLookup = (id: string): string | undefined => this.graph.objects.get(id)?.type;

  private create(params: Params): unknown {
    const type = getString(params, 'type');
    const sessionId = this.session(params);
    const cls = this.kmd.classDef(type);
    if (!cls || !this.kmd.isFactory(type)) {
      throw KmsError.kurento('MEDIA_OBJECT_NOT_AVAILABLE', `Factory '${type}' not found`);
    }
    const defs = cls.ctorParams ?? [];
    const args = this.kmd.validateParams(defs, params.constructorParams, this.typeLookup);
    // The parent is the first RemoteClass constructor param: `mediaPipeline`, or `hub` for a HubPort.
    const parentDef = defs.find((d) => this.kmd.classes.has(d.type));
    const parentId = parentDef ? args[parentDef.name] : undefined;
    const parent = typeof parentId === 'string' ? this.lookup(parentId) : undefined;
    const obj = this.graph.add(type, parent, args);
    if (isObject(params.properties) && typeof params.properties.name === 'string') {
      obj.props.set('name', params.properties.name);
    }
    if (this.kmd.isA(type, 'SdpEndpoint')) {
      obj.sdp = {
        identity: newIdentity(this.opts.fingerprint),
        offerer: false,
        remoteSends: new Set(),
        mlines: [],
      };
    }
    if (this.kmd.isA(type, 'WebRtcEndpoint')) {
      obj.ice = {
        gathering: 'new',
        connected: false,
        ports: [this.port(), this.port(), this.port(), this.port()],
      };
    }
    if (this.kmd.isA(type, 'UriEndpoint')) obj.uriState = 'STOP';
    this.graph.emit(SERVER_MANAGER_ID, 'ObjectCreated', { object: obj.id });
    return { sessionId, value: obj.id };
  }

  private async invoke(params: Params): Promise<unknown> {
    const operation = getString(params, 'operation');
    const objectId = getString(params, 'object');
    const sessionId = this.session(params);
    const obj = this.lookup(objectId);
    const resolved = this.kmd.resolveOperation(obj.type, operation);
    if (!resolved) throw KmsError.kurento('MEDIA_OBJECT_METHOD_NOT_FOUND', `Method '${operation}' not found`);
    const defs: KmdParamDef[] =
      resolved.kind === 'method'
        ? resolved.method.params
        : resolved.kind === 'set'
          ? [{ name: resolved.property.name, type: resolved.property.type, optional: false }]
          : [];
    const args = this.kmd.validateParams(defs, params.operationParams, this.typeLookup, {
      missing: 'method',
      anyObject: UNCHECKED_OBJECT_PARAMS.has(`${resolved.owner}.${operation}`),
    });
    let value: unknown;
    const rawParams = isObject(params.operationParams) ? params.operationParams : {};
    const handler = this.kmd
      .lineage(obj.type)
      .map((t) => this.handlers.get(`${t}.${operation}`))
      .find((h) => h !== undefined);
    if (handler) {
      try {
        value = await handler(obj, args, sessionId);
      } catch (e) {
        if (e instanceof KmsError && e.wouldCrash) {
          this.onCrashingCall({
            object: obj.id,
            operation,
            params: structuredClone(rawParams),
            message: e.message,
          });
        }
        throw e;
      }
    } else if (resolved.kind === 'get') {
      const name = resolved.property.name;
      value = obj.props.has(name)
        ? obj.props.get(name)
        : name in obj.ctorParams
          ? obj.ctorParams[name]
          : name in PROPERTY_DEFAULTS
            ? PROPERTY_DEFAULTS[name]
            : this.kmd.defaultFor(resolved.property.type, resolved.property.defaultValue);
    } else if (resolved.kind === 'set') {
      obj.props.set(resolved.property.name, args[resolved.property.name]);
      value = null;
    } else {
      value = resolved.method.returnType ? this.kmd.defaultFor(resolved.method.returnType) : null;
    }
    return { sessionId, value: value === undefined ? null : value };
  }

  private subscribe(params: Params): unknown {
    const type = getString(params, 'type');
    const objectId = getString(params, 'object');
    const sessionId = this.session(params);
    const obj = this.lookup(objectId);
    if (!this.kmd.supportsEvent(obj.type, type)) {
      throw KmsError.kurento('MEDIA_OBJECT_EVENT_NOT_SUPPORTED', 'Event not found');
    }
    return { sessionId, value: this.graph.subscribe(sessionId, objectId, type) };
  }

  private unsubscribe(params: Params): unknown {
    getString(params, 'object');
    const subscription = getString(params, 'subscription');
    const sessionId = getString(params, 'sessionId');
    this.graph.unsubscribe(sessionId, subscription);
    return { sessionId };
  }

  private release(params: Params): unknown {
    const objectId = getString(params, 'object');
    const sessionId = this.session(params);
    const obj = this.lookup(objectId);
    if (obj.type !== 'ServerManager') {
      const gone = this.graph.remove(objectId);
      for (const id of gone) {
        this.graph.emit(SERVER_MANAGER_ID, 'ObjectDestroyed', { objectId: id });
        this.webrtcPeers.delete(id);
        this.rtpPeers.delete(id);
        this.earlyCandidates.delete(id);
      }
      this.router?.release(gone);
      this.recomputeFlows();
    }
    return { sessionId };
  }

  /** `transaction {operations}` as in ServerMethods::transaction (ids must be 0..n-1, `newref:<n>`). */
  private async transaction(params: Params): Promise<unknown> {
    const sessionId = this.session(params);
    if (!Array.isArray(params.operations)) {
      throw KmsError.rpc(
        `'operations' parameter ${'operations' in params ? 'should be an array' : 'is required'}`,
      );
    }
    const responses: Array<Record<string, unknown>> = [];
    for (const [i, op] of (params.operations as unknown[]).entries()) {
      const operation = isObject(op) ? op : {};
      if (operation.id !== i) {
        throw KmsError.kurento('MALFORMED_TRANSACTION', `Id of request '${i}' should be '${i}'`);
      }
      const reqParams = { ...(isObject(operation.params) ? operation.params : {}), sessionId };
      const withRefs = this.injectRefs(reqParams, responses) as Params;
      try {
        const result = await this.handle(String(operation.method), withRefs);
        responses.push({ id: i, jsonrpc: '2.0', result });
      } catch (e) {
        const err = e instanceof KmsError ? e : KmsError.kurento('UNEXPECTED_ERROR', String(e));
        responses.push({ error: err.toJson(), id: i, jsonrpc: '2.0' });
        break;
      }
    }
    return { sessionId, value: responses };
  }

  private injectRefs(value: unknown, responses: Array<Record<string, unknown>>): unknown {
    if (typeof value === 'string' && value.startsWith('newref:') && value.length > 'newref:'.length) {
      const ref = value.slice('newref:'.length);
      const index = Number.parseInt(ref, 10);
      if (Number.isNaN(index))
        throw KmsError.kurento('MALFORMED_TRANSACTION', `Invalid index of newref '${ref}'`);
      const result = responses[index]?.result;
      if (!isObject(result))
        throw KmsError.kurento('MALFORMED_TRANSACTION', `Result not found on request ${index}`);
      return result.value;
    }
    if (Array.isArray(value)) return value.map((v) => this.injectRefs(v, responses));
    if (isObject(value)) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.injectRefs(v, responses)]));
    }
    return value;
  }

  // --- operations -------------------------------------------------------------------------------

  private port(): number {
    while (this.usedPorts.has(this.nextPort)) this.nextPort += 2;
    const p = this.nextPort;
    this.usedPorts.add(p);
    this.nextPort += 2;
    if (this.nextPort > 59998) this.nextPort = 20000;
    return p;
  }

  private on(owner: string, operation: string, handler: Handler): void {
    this.handlers.set(`${owner}.${operation}`, handler);
  }

  /** Media that starts at an endpoint: its remote peer sends it and the session is up. */
  private origin = (o: MediaObjectState): Set<FlowKind> => {
    const port = this.mediaPortOf(o);
    if (port) return new Set(MEDIA_KINDS.filter((k) => port.flowing(k)).map(mediaTypeOfKind));
    if (o.ice && !o.ice.connected) return new Set();
    if (o.sdp) return o.sdp.remote && o.sdp.local ? o.sdp.remoteSends : new Set();
    if (this.kmd.isA(o.type, 'PlayerEndpoint') && o.uriState === 'START') return new Set(['AUDIO', 'VIDEO']);
    return new Set();
  };

  /** Re-evaluates media flow and emits flow events (see MediaGraph.recomputeFlows). */
  recomputeFlows(): void {
    if ((this.opts.simulateMedia || this.router) && !this.closed) this.graph.recomputeFlows(this.origin);
  }

  /** The real media port of an endpoint (a werift peer or UDP sockets), if it has one. */
  private mediaPortOf(o: MediaObjectState): MediaPort | undefined {
    if (!this.router || !o.sdp) return undefined;
    return this.router.port(o.id);
  }

  private registerHandlers(): void {
    const g = this.graph;

    // MediaObject
    this.on(
      'MediaObject',
      'getMediaPipeline',
      (o) => o.pipeline ?? (o.type === 'MediaPipeline' ? o.id : null),
    );
    this.on('MediaObject', 'getParent', (o) => o.parent ?? null);
    this.on('MediaObject', 'getId', (o) => o.id);
    this.on('MediaObject', 'getChildren', (o) => g.children(o.id));
    this.on('MediaObject', 'getName', (o) => o.props.get('name') ?? o.id);
    this.on('MediaObject', 'getCreationTime', (o) => o.creationTime);
    this.on('MediaObject', 'addTag', (o, a) => void o.tags.set(String(a.key), String(a.value)));
    this.on('MediaObject', 'removeTag', (o, a) => void o.tags.delete(String(a.key)));
    this.on('MediaObject', 'getTag', (o, a) => {
      const v = o.tags.get(String(a.key));
      if (v === undefined) throw KmsError.kurento('MEDIA_OBJECT_TAG_KEY_NOT_FOUND', 'Tag key not found');
      return v;
    });
    this.on('MediaObject', 'getTags', (o) =>
      [...o.tags].map(([key, value]) => ({ __module__: 'kurento', __type__: 'Tag', key, value })),
    );

    // ServerManager (getInfo / getPipelines / getUsedCpu shapes as recorded: requests 3, 109, 110)
    this.on('ServerManager', 'getInfo', () => ({
      __module__: 'kurento',
      __type__: 'ServerInfo',
      capabilities: ['transactions'],
      modules: this.kmd.modules.map((m) => ({
        __module__: 'kurento',
        __type__: 'ModuleInfo',
        factories: m.factories,
        generationTime: GENERATION_TIMES[m.name] ?? '',
        name: m.name,
        version: SERVER_VERSION,
      })),
      type: 'KMS',
      version: SERVER_VERSION,
    }));
    this.on('ServerManager', 'getPipelines', () =>
      [...g.objects.values()].filter((o) => o.type === 'MediaPipeline').map((o) => o.id),
    );
    this.on('ServerManager', 'getSessions', () => [...this.sessions]);
    this.on('ServerManager', 'getMetadata', () => '');
    this.on('ServerManager', 'getKmd', (_o, a) => {
      const m = this.kmd.modules.find((x) => x.name === a.moduleName);
      if (!m) throw KmsError.kurento('SERVER_MANAGER_ERROR_KMD_NOT_FOUND', 'Module not found');
      return m.text;
    });
    this.on('ServerManager', 'getCpuCount', () => os.cpus().length);
    this.on('ServerManager', 'getUsedCpu', async (_o, a) => {
      // KMS samples the CPU over `interval` ms before answering (the recording took 1 s for 1000);
      // over 0 ms it divides 0 by 0 and answers null (real-kms-mixers.jsonl 313). The value is a
      // percentage of one core: 120–181 on a loaded 2-core host (mixers 4, 312).
      const interval = Number(a.interval);
      if (!(interval > 0)) return null;
      await sleep(interval);
      return Math.round(os.loadavg()[0] ?? 0) + 0.5;
    });
    this.on('ServerManager', 'getUsedMemory', () => Math.round(process.memoryUsage().rss / 1024));

    // Pipelines and hubs
    const dot = (o: MediaObjectState): string => `digraph "${o.id}" {\n}\n`;
    this.on('MediaPipeline', 'getGstreamerDot', dot);
    this.on('Hub', 'getGstreamerDot', dot);
    this.on('MediaElement', 'getGstreamerDot', dot);

    // Hubs (kmd: elements.AlphaBlending / Composite / HubPort; errors: real-kms-mixers.jsonl 154–165)
    this.on('AlphaBlending', 'setMaster', (o, a) => {
      const port = this.ownHubPort(o, 'setMaster', 'source', String(a.source));
      const layout = (o.layout ??= { ports: new Map() } as AlphaBlendingLayout);
      layout.master = { port, zOrder: Number(a.zOrder) };
      this.router?.sync();
      return null;
    });
    this.on('AlphaBlending', 'setPortProperties', (o, a) => {
      const port = this.ownHubPort(o, 'setPortProperties', 'port', String(a.port));
      (o.layout ??= { ports: new Map() } as AlphaBlendingLayout).ports.set(port, {
        relativeX: Number(a.relativeX),
        relativeY: Number(a.relativeY),
        zOrder: Number(a.zOrder),
        relativeWidth: Number(a.relativeWidth),
        relativeHeight: Number(a.relativeHeight),
      });
      return null;
    });

    // FaceOverlayFilter: a real KMS GETs the image when called, and a 404 or "not a uri" still
    // answers null (real-kms-mixers.jsonl 245–254); the fake fetches nothing and draws nothing.
    this.on('FaceOverlayFilter', 'setOverlayedImage', (o, a) => {
      o.overlay = {
        uri: String(a.uri),
        offsetXPercent: Number(a.offsetXPercent),
        offsetYPercent: Number(a.offsetYPercent),
        widthPercent: Number(a.widthPercent),
        heightPercent: Number(a.heightPercent),
      };
      return null;
    });
    this.on('FaceOverlayFilter', 'unsetOverlayedImage', (o) => {
      delete o.overlay;
      return null;
    });

    // MediaElement connections
    this.on('MediaElement', 'connect', (o, a) => {
      const sink = this.lookup(String(a.sink));
      if (sink.pipeline !== o.pipeline) {
        throw KmsError.kurento('CONNECT_ERROR', 'Media elements do not share pipeline');
      }
      const types = a.mediaType ? [a.mediaType as MediaType] : undefined;
      const sourceDesc = (a.sourceMediaDescription as string | undefined) ?? 'default';
      const sinkDesc = (a.sinkMediaDescription as string | undefined) ?? 'default';
      const replaced = g.connect(o.id, sink.id, types, sourceDesc, sinkDesc);
      for (const c of replaced) {
        g.emit(c.source, 'ElementDisconnected', {
          mediaType: c.type,
          sink: c.sink,
          sinkMediaDescription: c.sinkDescription,
          sourceMediaDescription: c.sourceDescription,
        });
      }
      for (const type of types ?? CONNECT_ORDER) {
        g.emit(o.id, 'ElementConnected', {
          mediaType: type,
          sink: sink.id,
          sinkMediaDescription: sinkDesc,
          sourceMediaDescription: sourceDesc,
        });
      }
      this.router?.sync();
      this.recomputeFlows();
      return null;
    });
    this.on('MediaElement', 'disconnect', (o, a) => {
      const mediaType = a.mediaType as MediaType | undefined;
      g.disconnect(
        o.id,
        String(a.sink),
        mediaType,
        a.sourceMediaDescription as string | undefined,
        a.sinkMediaDescription as string | undefined,
      );
      // One ElementDisconnected per media type, whether or not the two were connected (recorded:
      // real-kms-mixers.jsonl 146, 147 — elements never or no longer connected — and 176, a stale
      // disconnect after a switch).
      for (const type of mediaType ? [mediaType] : CONNECT_ORDER) {
        g.emit(o.id, 'ElementDisconnected', {
          mediaType: type,
          sink: String(a.sink),
          sinkMediaDescription: a.sinkMediaDescription ?? 'default',
          sourceMediaDescription: a.sourceMediaDescription ?? 'default',
        });
      }
      this.router?.sync();
      this.recomputeFlows();
      return null;
    });
    const connectionData = (side: 'sinks' | 'sources') => (o: MediaObjectState, a: Params) =>
      g
        .connectionsOf(o.id, side, a.mediaType as MediaType | undefined, a.description as string | undefined)
        .map((c) => ({
          __module__: 'kurento',
          __type__: 'ElementConnectionData',
          sink: c.sink,
          sinkDescription: c.sinkDescription,
          source: c.source,
          sourceDescription: c.sourceDescription,
          type: c.type,
        }));
    this.on('MediaElement', 'getSinkConnections', connectionData('sinks'));
    this.on('MediaElement', 'getSourceConnections', connectionData('sources'));
    this.on('MediaElement', 'isMediaFlowingIn', (o, a) => o.flowIn.has(a.mediaType as FlowKind));
    this.on('MediaElement', 'isMediaFlowingOut', (o, a) => o.flowOut.has(a.mediaType as FlowKind));
    this.on('MediaElement', 'isMediaTranscoding', () => false);
    this.on('MediaElement', 'getStats', () => ({}));

    // SdpEndpoint / BaseRtpEndpoint / WebRtcEndpoint / RtpEndpoint
    this.on('SdpEndpoint', 'generateOffer', (o, a) =>
      this.router ? this.generateOfferWithMedia(o, a) : this.generateOffer(o, a),
    );
    this.on('SdpEndpoint', 'processOffer', (o, a) =>
      this.router ? this.processOfferWithMedia(o, String(a.offer)) : this.processOffer(o, String(a.offer)),
    );
    this.on('SdpEndpoint', 'processAnswer', (o, a) =>
      this.router
        ? this.processAnswerWithMedia(o, String(a.answer))
        : this.processAnswer(o, String(a.answer)),
    );
    this.on('SdpEndpoint', 'getLocalSessionDescriptor', (o) => {
      if (!o.sdp?.local) throw KmsError.kurento('SDP_END_POINT_NO_LOCAL_SDP_ERROR', 'No local SDP');
      return o.sdp.local;
    });
    this.on('SdpEndpoint', 'getRemoteSessionDescriptor', (o) => {
      if (!o.sdp?.remote) throw KmsError.kurento('SDP_END_POINT_NO_REMOTE_SDP_ERROR', 'No remote SDP');
      return o.sdp.remote;
    });
    const up = (o: MediaObjectState): boolean => (o.ice ? o.ice.connected : !!(o.sdp?.local && o.sdp.remote));
    this.on('BaseRtpEndpoint', 'getMediaState', (o) => (up(o) ? 'CONNECTED' : 'DISCONNECTED'));
    this.on('BaseRtpEndpoint', 'getConnectionState', (o) => (up(o) ? 'CONNECTED' : 'DISCONNECTED'));
    // requestKeyframe: 40111 on a publisher, an unconnected viewer and an ffmpeg-fed RtpEndpoint,
    // null on an element receiving from a source (real-kms-mixers.jsonl 197, 198, 282, 308). The
    // fake asks only for a video source connection (without media it cannot tell whether media
    // flows in); with media, the request goes to that source (a PLI to the publisher).
    this.on('BaseRtpEndpoint', 'requestKeyframe', (o) => {
      const fed = g.connectionsOf(o.id, 'sources', 'VIDEO').length > 0 && !g.unlinkedSinks.has(o.id);
      if (!fed) {
        throw KmsError.kurento(
          'MEDIA_OBJECT_OPERATION_NOT_SUPPORTED',
          'Keyframe request failed (must be requested from a subscriber element)',
        );
      }
      this.router?.requestKeyframe(o.id);
      return null;
    });
    this.on('WebRtcEndpoint', 'gatherCandidates', (o) => this.gatherCandidates(o));
    this.on('WebRtcEndpoint', 'addIceCandidate', (o, a) => {
      // Any candidate string is accepted (recorded: "nonsense", request 104).
      const line = isObject(a.candidate) ? String(a.candidate.candidate) : '';
      if (this.router && this.isWebRtc(o)) {
        const c = isObject(a.candidate) ? a.candidate : {};
        const sdpMid = typeof c.sdpMid === 'string' ? c.sdpMid : undefined;
        const index = typeof c.sdpMLineIndex === 'number' ? c.sdpMLineIndex : undefined;
        const peer = this.webrtcPeers.get(o.id);
        if (peer) {
          peer.addRemoteCandidate(line, sdpMid, index);
          return null;
        }
        if (!o.sdp?.local) {
          const early = this.earlyCandidates.get(o.id) ?? [];
          early.push({
            candidate: line,
            ...(sdpMid !== undefined ? { sdpMid } : {}),
            ...(index !== undefined ? { index } : {}),
          });
          this.earlyCandidates.set(o.id, early);
          return null;
        }
      }
      const parts = line.split(' ');
      if (o.ice && !o.ice.remoteCandidate && /^candidate:/.test(line) && parts.length >= 8) {
        o.ice.remoteCandidate = [
          ...parts.slice(0, 2),
          (parts[2] ?? '').toUpperCase(),
          ...parts.slice(3, 8),
        ].join(' ');
        this.maybeConnectIce(o);
      }
      return null;
    });

    // UriEndpoints
    this.on('PlayerEndpoint', 'play', (o) => this.setUriState(o, 'START'));
    this.on('RecorderEndpoint', 'record', (o) => this.setUriState(o, 'START'));
    this.on('RecorderEndpoint', 'stopAndWait', (o) => this.setUriState(o, 'STOP'));
    this.on('UriEndpoint', 'stop', (o) => this.setUriState(o, 'STOP'));
    this.on('UriEndpoint', 'pause', (o) => this.setUriState(o, 'PAUSE'));
    this.on('UriEndpoint', 'getState', (o) => o.uriState ?? 'STOP');
  }

  private setUriState(o: MediaObjectState, state: 'STOP' | 'START' | 'PAUSE'): null {
    if (o.uriState !== state) {
      o.uriState = state;
      this.graph.emit(o.id, 'UriEndpointStateChanged', { state });
      this.recomputeFlows();
    }
    return null;
  }

  /**
   * The id of a HubPort of AlphaBlending `o`, or a {@link KmsError.wouldCrash}: a real KMS 7.3
   * dies (SIGSEGV in `AlphaBlendingImpl::setMaster`, every pipeline gone) when given the id of an
   * existing object that is not one of that AlphaBlending's HubPorts — a Composite's port, a
   * WebRtcEndpoint (`/work/shared/kms-protocol/README.md`, scenario 2). `setPortProperties` takes
   * the same path (the port's handler id given to the GStreamer mixer); that it crashes too is
   * inferred, not observed. Unknown ids were already answered 40101 by the marshalling.
   */
  private ownHubPort(o: MediaObjectState, operation: string, param: string, id: string): string {
    const port = this.lookup(id);
    if (port.type === 'HubPort' && port.parent === o.id) return id;
    const what =
      port.type === 'HubPort' ? `a HubPort of another hub (${port.parent ?? '?'})` : `a ${port.type}`;
    throw KmsError.wouldCrash(
      `AlphaBlending.${operation}: '${param}' is ${what}, not a HubPort of this AlphaBlending`,
    );
  }

  private isWebRtc(o: MediaObjectState): boolean {
    return this.kmd.isA(o.type, 'WebRtcEndpoint');
  }

  private negotiated(o: MediaObjectState, local: ParsedSdp, remote: ParsedSdp): void {
    const sdp = o.sdp;
    if (!sdp) return;
    sdp.remoteSends = new Set();
    sdp.mlines = [];
    remote.media.forEach((m, i) => {
      const ours = local.media[i];
      const kind = mediaTypeOf(m.kind);
      if (!ours || ours.port === 0) return;
      const mid = ours.lines.find((l) => l.startsWith('a=mid:'))?.slice(6);
      if (mid !== undefined) sdp.mlines.push({ mid, index: i });
      const remoteDir = directionOf(m, remote.sessionLines);
      const ourDir = directionOf(ours, local.sessionLines);
      if ((kind === 'AUDIO' || kind === 'VIDEO') && sends(remoteDir) && sends(mirror(ourDir))) {
        sdp.remoteSends.add(kind);
      }
    });
    if (!sdp.mlines.length)
      local.media.forEach((_m, index) => sdp.mlines.push({ mid: String(index), index }));
  }

  private generateOffer(o: MediaObjectState, a: Params): string {
    const sdp = o.sdp;
    if (!sdp) throw KmsError.kurento('NOT_IMPLEMENTED', 'Not an SdpEndpoint');
    if (sdp.local) throw KmsError.kurento('SDP_END_POINT_ALREADY_NEGOTIATED', 'Endpoint already negotiated');
    const options = isObject(a.options) ? a.options : {};
    sdp.local = this.isWebRtc(o)
      ? buildWebRtcOffer({
          identity: sdp.identity,
          ...(options.offerToReceiveAudio === false ? { offerToReceiveAudio: false } : {}),
          ...(options.offerToReceiveVideo === false ? { offerToReceiveVideo: false } : {}),
          recvonly: o.ctorParams.recvonly === true,
          sendonly: o.ctorParams.sendonly === true,
          useDataChannels: o.ctorParams.useDataChannels === true,
        })
      : buildRtpOffer(this.opts.rtpAddress, () => this.port(), sdp.identity.cname);
    sdp.offerer = true;
    const local = parseSdp(sdp.local);
    sdp.mlines = local.media.map((m, index) => ({
      mid: m.lines.find((l) => l.startsWith('a=mid:'))?.slice(6) ?? String(index),
      index,
    }));
    return sdp.local;
  }

  private processOffer(o: MediaObjectState, offerText: string): string {
    const sdp = o.sdp;
    if (!sdp) throw KmsError.kurento('NOT_IMPLEMENTED', 'Not an SdpEndpoint');
    const offer = parseSdp(offerText);
    if (sdp.local) throw KmsError.kurento('SDP_END_POINT_ALREADY_NEGOTIATED', 'Endpoint already negotiated');
    sdp.local = this.isWebRtc(o)
      ? buildWebRtcAnswer(offer, {
          identity: sdp.identity,
          recvonly: o.ctorParams.recvonly === true,
          sendonly: o.ctorParams.sendonly === true,
          useDataChannels: o.ctorParams.useDataChannels === true,
        })
      : buildRtpAnswer(offer, this.opts.rtpAddress, () => this.port(), sdp.identity.cname);
    sdp.remote = offerText;
    this.negotiated(o, parseSdp(sdp.local), offer);
    this.afterNegotiation(o);
    return sdp.local;
  }

  private processAnswer(o: MediaObjectState, answerText: string): string {
    const sdp = o.sdp;
    if (!sdp) throw KmsError.kurento('NOT_IMPLEMENTED', 'Not an SdpEndpoint');
    const answer = parseSdp(answerText);
    if (!sdp.offerer || !sdp.local) {
      throw KmsError.kurento(
        'SDP_END_POINT_NOT_OFFER_GENERATED',
        'Offer not generated. It is not possible to process an answer.',
      );
    }
    if (sdp.remote)
      throw KmsError.kurento('SDP_END_POINT_ANSWER_ALREADY_PROCCESED', 'Answer already processed');
    sdp.remote = answerText;
    this.negotiated(o, parseSdp(sdp.local), answer);
    this.afterNegotiation(o);
    return sdp.local;
  }

  private afterNegotiation(o: MediaObjectState): void {
    if (o.ice) this.maybeConnectIce(o);
    else if (this.rtpPeers.has(o.id)) {
      // Real RTP: the session is up at once, MediaStateChanged waits for the first packet (README, scenario 2).
      this.graph.emit(o.id, 'ConnectionStateChanged', { newState: 'CONNECTED', oldState: 'DISCONNECTED' });
      this.recomputeFlows();
    } else if (this.opts.simulateMedia) {
      this.graph.emit(o.id, 'MediaStateChanged', { newState: 'CONNECTED', oldState: 'DISCONNECTED' });
      this.graph.emit(o.id, 'ConnectionStateChanged', { newState: 'CONNECTED', oldState: 'DISCONNECTED' });
      this.recomputeFlows();
    }
  }

  // --- real media (FakeKms `media` option) ---------------------------------------------------------

  private webrtcOptions(o: MediaObjectState) {
    return {
      address: this.opts.iceAddress,
      videoCodecs: this.opts.media?.videoCodecs ?? ['VP8', 'H264'],
      recvonly: o.ctorParams.recvonly === true,
      sendonly: o.ctorParams.sendonly === true,
    };
  }

  /** Checks that an endpoint can still negotiate (40208 otherwise) and marks it busy during `fn`. */
  private async negotiate<T extends { close(): Promise<void> }>(
    o: MediaObjectState,
    fn: () => Promise<T | undefined>,
  ): Promise<T | undefined> {
    if (o.sdp?.local || this.negotiating.has(o.id)) {
      throw KmsError.kurento('SDP_END_POINT_ALREADY_NEGOTIATED', 'Endpoint already negotiated');
    }
    this.negotiating.add(o.id);
    let made: T | undefined;
    try {
      made = await fn();
    } finally {
      this.negotiating.delete(o.id);
    }
    if (this.closed || !this.graph.objects.has(o.id)) {
      await made?.close();
      throw KmsError.objectNotFound(o.id);
    }
    return made;
  }

  /**
   * processOffer with media: a WebRtcEndpoint answers with its werift peer's SDP (falling back to
   * the simulated answer when werift cannot use the offer, e.g. no shared codec); an RtpEndpoint
   * binds its UDP ports before answering. A non-SDP is still 40201 (checked first).
   */
  private async processOfferWithMedia(o: MediaObjectState, offerText: string): Promise<string> {
    const sdp = o.sdp;
    if (!sdp) throw KmsError.kurento('NOT_IMPLEMENTED', 'Not an SdpEndpoint');
    const offer = parseSdp(offerText);
    if (this.isWebRtc(o)) {
      const peer = await this.negotiate(o, () =>
        WebRtcPeer.answer(offerText, this.webrtcOptions(o)).catch((e: unknown) => {
          if (debug) console.error(`[fake-kms] werift refused the offer of ${o.id}: ${String(e)}`);
          return undefined;
        }),
      );
      if (!peer) return this.processOffer(o, offerText);
      sdp.local = peer.localSdp;
      sdp.remote = offerText;
      this.negotiated(o, parseSdp(sdp.local), offer);
      this.attachWebRtc(o, peer);
      return sdp.local;
    }
    const peer = await this.negotiate(o, () =>
      RtpPeer.bind(offer.media.length, (p) => this.usedPorts.has(p)),
    );
    if (!peer) return this.processOffer(o, offerText);
    const ports = peer.ports;
    sdp.local = buildRtpAnswer(offer, this.opts.rtpAddress, this.portsFrom(ports), sdp.identity.cname);
    sdp.remote = offerText;
    peer.configure(sdp.local, offerText);
    this.attachRtp(o, peer);
    this.negotiated(o, parseSdp(sdp.local), offer);
    this.afterNegotiation(o);
    return sdp.local;
  }

  /** generateOffer with media: werift's offer, or an RtpEndpoint offer on bound ports. */
  private async generateOfferWithMedia(o: MediaObjectState, a: Params): Promise<string> {
    const sdp = o.sdp;
    if (!sdp) throw KmsError.kurento('NOT_IMPLEMENTED', 'Not an SdpEndpoint');
    const options = isObject(a.options) ? a.options : {};
    if (this.isWebRtc(o)) {
      const peer = await this.negotiate(o, () =>
        WebRtcPeer.offer({
          ...this.webrtcOptions(o),
          ...(options.offerToReceiveAudio === false ? { offerToReceiveAudio: false } : {}),
          ...(options.offerToReceiveVideo === false ? { offerToReceiveVideo: false } : {}),
        }),
      );
      if (!peer) return this.generateOffer(o, a);
      sdp.local = peer.localSdp;
      sdp.offerer = true;
      sdp.mlines = parseSdp(sdp.local).media.map((m, index) => ({
        mid: m.lines.find((l) => l.startsWith('a=mid:'))?.slice(6) ?? String(index),
        index,
      }));
      this.attachWebRtc(o, peer);
      return sdp.local;
    }
    const peer = await this.negotiate(o, () => RtpPeer.bind(2, (p) => this.usedPorts.has(p)));
    if (!peer) return this.generateOffer(o, a);
    sdp.local = buildRtpOffer(this.opts.rtpAddress, this.portsFrom(peer.ports), sdp.identity.cname);
    sdp.offerer = true;
    sdp.mlines = parseSdp(sdp.local).media.map((m, index) => ({
      mid: m.lines.find((l) => l.startsWith('a=mid:'))?.slice(6) ?? String(index),
      index,
    }));
    this.attachRtp(o, peer);
    return sdp.local;
  }

  /** processAnswer with media: the SDP checks and events of {@link processAnswer}, then the peer starts. */
  private async processAnswerWithMedia(o: MediaObjectState, answerText: string): Promise<string> {
    const local = this.processAnswer(o, answerText);
    const webrtc = this.webrtcPeers.get(o.id);
    if (webrtc) {
      await webrtc.acceptAnswer(answerText).catch((e: unknown) => {
        if (debug) console.error(`[fake-kms] werift refused the answer of ${o.id}: ${String(e)}`);
      });
    }
    this.rtpPeers.get(o.id)?.configure(local, answerText);
    return local;
  }

  /** A port allocator handing out already bound ports first. */
  private portsFrom(bound: number[]): () => number {
    const queue = [...bound];
    return () => {
      const p = queue.shift() ?? this.port();
      this.usedPorts.add(p);
      return p;
    };
  }

  /** KMS events of a WebRtcEndpoint driven by its werift peer's real ICE / DTLS states and RTP flow. */
  private attachWebRtc(o: MediaObjectState, peer: WebRtcPeer): void {
    this.webrtcPeers.set(o.id, peer);
    const alive = (): boolean => this.graph.objects.has(o.id) && !this.closed;
    const iceState = (state: string): void =>
      this.graph.emit(o.id, 'IceComponentStateChanged', { componentId: 1, state, streamId: 1 });
    let selected = false;
    peer.states.on('ice', (s) => {
      if (!alive()) return;
      if (s === 'checking') iceState('CONNECTING');
      else if ((s === 'connected' || s === 'completed') && !selected) {
        selected = true;
        const pair = peer.selectedPair();
        if (o.ice && pair) {
          o.ice.localCandidate = pair.local;
          o.ice.remoteCandidate = pair.remote;
        }
        this.graph.emit(o.id, 'NewCandidatePairSelected', {
          candidatePair: {
            __module__: 'kurento',
            __type__: 'IceCandidatePair',
            componentId: 1,
            localCandidate: pair?.local ?? '',
            remoteCandidate: pair?.remote ?? '',
            streamId: '1',
          },
        });
        iceState('CONNECTED');
        iceState('READY');
      } else if (s === 'failed') iceState('FAILED');
    });
    peer.states.on('connection', (s) => {
      const ice = o.ice;
      if (!alive() || !ice) return;
      const up = s === 'connected';
      if (up === ice.connected || (!up && !['disconnected', 'failed', 'closed'].includes(s))) return;
      ice.connected = up;
      const change = up
        ? { newState: 'CONNECTED', oldState: 'DISCONNECTED' }
        : { newState: 'DISCONNECTED', oldState: 'CONNECTED' };
      this.graph.emit(o.id, 'ConnectionStateChanged', change);
      this.graph.emit(o.id, 'MediaStateChanged', change);
      this.recomputeFlows();
    });
    peer.events.on('flow', () => {
      if (alive()) this.recomputeFlows();
    });
    this.router?.attach(o.id, peer);
    for (const c of this.earlyCandidates.get(o.id) ?? [])
      peer.addRemoteCandidate(c.candidate, c.sdpMid, c.index);
    this.earlyCandidates.delete(o.id);
  }

  /** An RtpEndpoint's sockets: MediaStateChanged CONNECTED with the first packet, flow events from real RTP. */
  private attachRtp(o: MediaObjectState, peer: RtpPeer): void {
    this.rtpPeers.set(o.id, peer);
    let mediaUp = false;
    peer.events.on('flow', (_kind, flowing) => {
      if (!this.graph.objects.has(o.id) || this.closed) return;
      if (flowing && !mediaUp) {
        mediaUp = true;
        this.graph.emit(o.id, 'MediaStateChanged', { newState: 'CONNECTED', oldState: 'DISCONNECTED' });
      }
      this.recomputeFlows();
    });
    this.router?.attach(o.id, peer);
  }

  /**
   * gatherCandidates with a werift peer: once werift's gathering completes, the same events as the
   * simulated path (GATHERING ×2, IceCandidateFound per candidate × m-line, IceGatheringDone),
   * carrying werift's real host candidates on the ICE address.
   */
  private gatherWithPeer(o: MediaObjectState, peer: WebRtcPeer): void {
    const ice = o.ice;
    const mlines = o.sdp?.mlines ?? [];
    void peer.localCandidates().then((candidates) => {
      // After the `null` result of gatherCandidates has gone out, as KMS does.
      setImmediate(() => {
        if (!this.graph.objects.has(o.id) || this.closed || !ice) return;
        for (const componentId of [1, 2]) {
          this.graph.emit(o.id, 'IceComponentStateChanged', { componentId, state: 'GATHERING', streamId: 1 });
        }
        ice.localCandidate = candidates[0];
        for (const candidate of candidates) {
          for (const m of mlines) {
            this.graph.emit(o.id, 'IceCandidateFound', {
              candidate: {
                __module__: 'kurento',
                __type__: 'IceCandidate',
                candidate,
                sdpMLineIndex: m.index,
                sdpMid: m.mid,
              },
            });
          }
        }
        this.graph.emit(o.id, 'IceGatheringDone');
        ice.gathering = 'done';
      });
    });
  }

  /**
   * gatherCandidates: answers null, then (like the recording, requests 18/44/65) emits
   * IceComponentStateChanged GATHERING for components 1 and 2, IceCandidateFound for each
   * candidate (UDP host, TCP active port 9, TCP passive) × component × accepted m-line, and
   * IceGatheringDone. Before any SDP negotiation KMS has no ICE session: 40400.
   */
  private gatherCandidates(o: MediaObjectState): null {
    const ice = o.ice;
    const sdp = o.sdp;
    if (!ice || !sdp?.local) {
      throw KmsError.kurento('ICE_GATHER_CANDIDATES_ERROR', 'Error gathering candidates');
    }
    if (ice.gathering !== 'new') return null;
    ice.gathering = 'gathering';
    const peer = this.webrtcPeers.get(o.id);
    if (peer) {
      this.gatherWithPeer(o, peer);
      return null;
    }
    const addr = this.opts.iceAddress;
    const [udp1 = 0, tcp1 = 0, udp2 = 0, tcp2 = 0] = ice.ports;
    ice.localCandidate = `candidate:1 1 UDP 2015364095 ${addr} ${udp1} typ host`;
    const candidates = [
      ice.localCandidate,
      `candidate:2 1 TCP 1015022591 ${addr} 9 typ host tcptype active`,
      `candidate:3 1 TCP 1010828287 ${addr} ${tcp1} typ host tcptype passive`,
      `candidate:1 2 UDP 2015364094 ${addr} ${udp2} typ host`,
      `candidate:2 2 TCP 1015022590 ${addr} 9 typ host tcptype active`,
      `candidate:3 2 TCP 1010828286 ${addr} ${tcp2} typ host tcptype passive`,
    ];
    setImmediate(() => {
      if (!this.graph.objects.has(o.id)) return;
      for (const componentId of [1, 2]) {
        this.graph.emit(o.id, 'IceComponentStateChanged', { componentId, state: 'GATHERING', streamId: 1 });
      }
      for (const candidate of candidates) {
        for (const m of sdp.mlines) {
          this.graph.emit(o.id, 'IceCandidateFound', {
            candidate: {
              __module__: 'kurento',
              __type__: 'IceCandidate',
              candidate,
              sdpMLineIndex: m.index,
              sdpMid: m.mid,
            },
          });
        }
      }
      this.graph.emit(o.id, 'IceGatheringDone');
      ice.gathering = 'done';
      this.maybeConnectIce(o);
    });
    return null;
  }

  /**
   * Simulated ICE success once gathering is done, a usable remote candidate arrived and SDP is
   * negotiated: the recorded sequence CONNECTING → NewCandidatePairSelected → CONNECTED → READY,
   * ConnectionStateChanged and MediaStateChanged (DISCONNECTED → CONNECTED), then media flow.
   */
  private maybeConnectIce(o: MediaObjectState): void {
    const ice = o.ice;
    if (!this.opts.simulateMedia || !ice || ice.connected || this.webrtcPeers.has(o.id)) return;
    if (ice.gathering !== 'done' || !ice.remoteCandidate || !o.sdp?.remote || !o.sdp.local) return;
    ice.connected = true;
    const remoteCandidate = ice.remoteCandidate;
    setImmediate(() => {
      if (!this.graph.objects.has(o.id)) return;
      const state = (s: string): void =>
        this.graph.emit(o.id, 'IceComponentStateChanged', { componentId: 1, state: s, streamId: 1 });
      state('CONNECTING');
      this.graph.emit(o.id, 'NewCandidatePairSelected', {
        candidatePair: {
          __module__: 'kurento',
          __type__: 'IceCandidatePair',
          componentId: 1,
          localCandidate: ice.localCandidate ?? '',
          remoteCandidate,
          streamId: '1',
        },
      });
      state('CONNECTED');
      state('READY');
      this.graph.emit(o.id, 'ConnectionStateChanged', { newState: 'CONNECTED', oldState: 'DISCONNECTED' });
      this.graph.emit(o.id, 'MediaStateChanged', { newState: 'CONNECTED', oldState: 'DISCONNECTED' });
      this.recomputeFlows();
    });
  }
}

/**
 * FakeKms driven by the REAL kurento-client 7.3.0 (and, for wire-level facts, a raw WebSocket).
 * Every expectation mirrors `/work/shared/kms-protocol/real-kms-scenario.jsonl` (the recording of
 * kurento-client against a real KMS 7.3.1) or kurento-client's own code.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { WebSocket } from 'ws';

import { FakeKms, WOULD_CRASH_CODE, WOULD_CRASH_TYPE } from '../support/FakeKms.js';
import { KmdModel } from '../support/fakeKms/KmdModel.js';
import { chromeCandidate, chromeOffer, chromeRecvOnlyOffer, ffmpegRtpOffer } from '../support/sdp.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const sharedDir = path.resolve(repoRoot, '../shared/kms-protocol');

// --- a thin typed view of kurento-client (CommonJS, no type declarations) ---------------------------

interface KurentoError extends Error {
  code?: number;
  data?: { type?: string };
}
type Callback = (error: KurentoError | null | undefined, result?: unknown) => void;
type EventData = Record<string, unknown>;
interface Emitter {
  on(event: string, listener: (...args: never[]) => void): unknown;
  once(event: string, listener: (...args: never[]) => void): unknown;
}
/** A kurento-client MediaObject (only what these tests use). */
interface Remote extends Emitter {
  id: string;
}
/** A kurento-client KurentoClient (only what these tests use). */
interface Client extends Remote {
  sessionId?: string;
  /** reconnect-ws emitter (non-enumerable: only on the object `kurento()` returns, not on `await`'s copy). */
  _re: Emitter & { disconnect(): void; reconnect: boolean; connected: boolean };
  then(onFulfilled: (copy: unknown) => void, onRejected: (error: Error) => void): unknown;
  close(): void;
}
type KurentoFactory = (url: string, options?: Record<string, unknown>) => Client;

// The package ships no types (declaring them is left to src/); a variable specifier keeps tsc from
// resolving the import, and the typed view above keeps the tests free of `any`.
const kurentoModule = 'kurento-client';
const kurento = ((await import(kurentoModule)) as { default: KurentoFactory }).default;

/** Calls a kurento-client method with a node-style callback (the promise API swallows errors: README pitfall 1). */
function call<T = unknown>(obj: object, method: string, ...args: unknown[]): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const fn = (obj as Record<string, unknown>)[method];
    if (typeof fn !== 'function') throw new TypeError(`no method ${method}`);
    const cb: Callback = (error, result) => (error ? reject(error) : resolve(result as T));
    (fn as (...a: unknown[]) => unknown).call(obj, ...args, cb);
  });
}

/** Rejects with the error a callback-style call yields (fails if it succeeds). */
async function callError(obj: object, method: string, ...args: unknown[]): Promise<KurentoError> {
  try {
    await call(obj, method, ...args);
  } catch (e) {
    return e as KurentoError;
  }
  throw new assert.AssertionError({ message: `${method} should have failed` });
}

/** Resolves with the first event of `type` (optionally matching `pred`). */
function nextEvent(obj: Emitter, type: string, pred: (d: EventData) => boolean = () => true, ms = 3000) {
  return new Promise<EventData>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${type} event within ${ms} ms`)), ms);
    obj.on(type, (d: EventData) => {
      if (!pred(d)) return;
      clearTimeout(timer);
      resolve(d);
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const clients: Client[] = [];
const servers: FakeKms[] = [];

async function startKms(opts: Parameters<typeof FakeKms.start>[0] = {}): Promise<FakeKms> {
  const kms = await FakeKms.start(opts);
  servers.push(kms);
  return kms;
}

/**
 * A connected client. Its reconnect emitter gets an 'error' listener: without one, a refused
 * reconnection kills the process. Wrapped in an object because an async function (or `await`)
 * would replace a thenable KurentoClient by its "unthenable" copy, which lacks `_re` and `sessionId`.
 */
async function connect(kms: FakeKms, options: Record<string, unknown> = {}): Promise<{ client: Client }> {
  // kurento-jsonrpc keeps every processed response for `duplicates_timeout` (default 20 s) in a
  // timer that holds the event loop open: keep it short so the test process can exit.
  const client = kurento(kms.url, { request_timeout: 5000, duplicates_timeout: 50, ...options });
  client._re.on('error', () => undefined);
  clients.push(client);
  await new Promise<void>((resolve, reject) => {
    client.then(() => resolve(), reject);
  });
  return { client };
}

/** `close()` alone does not stop reconnecting while an RPC is pending (e.g. one lost in a drop). */
function dispose(client: Client): void {
  client.close();
  client._re.disconnect();
}

after(async () => {
  for (const c of clients) dispose(c);
  for (const s of servers) await s.stop();
});

/** Silences kurento-client's own console chatter ("reconnect to server …", "Invalid Session") during `fn`. */
async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const { log, warn } = console;
  console.log = () => undefined;
  console.warn = () => undefined;
  try {
    return await fn();
  } finally {
    console.log = log;
    console.warn = warn;
  }
}

// --- a raw JSON-RPC client, for wire-level facts -------------------------------------------------------

interface Frame {
  id?: number;
  method?: string;
  result?: Record<string, unknown>;
  error?: { code: number; message: string; data?: { type?: string } };
  params?: { value: { data: EventData; object: string; type: string } };
}

async function rawClient(url: string) {
  const ws = new WebSocket(url);
  const frames: Array<{ text: string; msg: Frame }> = [];
  const waiters = new Map<number, (f: Frame) => void>();
  ws.on('message', (d: Buffer) => {
    const text = d.toString();
    const msg = JSON.parse(text) as Frame;
    frames.push({ text, msg });
    if (msg.id !== undefined) waiters.get(msg.id)?.(msg);
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  let next = 1;
  return {
    frames,
    ws,
    send(method: string, params?: Record<string, unknown>): Promise<Frame> {
      const id = next++;
      return new Promise<Frame>((resolve) => {
        waiters.set(id, resolve);
        ws.send(JSON.stringify({ jsonrpc: '2.0', method, ...(params !== undefined ? { params } : {}), id }));
      });
    },
    close: () => ws.close(),
  };
}

// =====================================================================================================

describe('FakeKms with the real kurento-client', () => {
  test('creates a pipeline and a WebRtcEndpoint with KMS-shaped ids', async () => {
    const kms = await startKms();
    const { client } = await connect(kms);
    const pipeline = await call<Remote>(client, 'create', 'MediaPipeline');
    const ep = await call<Remote>(pipeline, 'create', 'WebRtcEndpoint');
    const uuid = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
    assert.match(pipeline.id, new RegExp(`^${uuid}_kurento\\.MediaPipeline$`));
    assert.match(ep.id, new RegExp(`^${pipeline.id}/${uuid}_kurento\\.WebRtcEndpoint$`));
    assert.deepEqual(kms.objects(), [
      { id: pipeline.id, type: 'MediaPipeline' },
      { id: ep.id, type: 'WebRtcEndpoint', pipeline: pipeline.id },
    ]);
    assert.equal(kms.calls({ method: 'create', type: 'WebRtcEndpoint' }).length, 1);
    assert.match(String(client.sessionId), new RegExp(`^${uuid}$`));
    dispose(client);
  });

  test('processOffer answers a Chrome offer like KMS; gatherCandidates emits IceCandidateFound then IceGatheringDone', async () => {
    const kms = await startKms();
    const { client } = await connect(kms);
    const pipeline = await call<Remote>(client, 'create', 'MediaPipeline');
    const ep = await call<Remote>(pipeline, 'create', 'WebRtcEndpoint');
    const candidates: EventData[] = [];
    ep.on('IceCandidateFound', (d: EventData) => candidates.push(d));
    const done = nextEvent(ep, 'IceGatheringDone');

    const answer = await call<string>(ep, 'processOffer', chromeOffer);
    const lines = answer.split('\r\n');
    assert.equal(lines[0], 'v=0');
    assert.ok(answer.endsWith('\r\n'));
    assert.ok(lines.includes('c=IN IP4 0.0.0.0'));
    assert.ok(lines.includes('s=Kurento Media Server'));
    assert.ok(lines.includes('a=group:BUNDLE 0 1'));
    const mlines = lines.filter((l) => l.startsWith('m='));
    assert.deepEqual(
      mlines.map((l) => l.split(' ').slice(0, 3).join(' ')),
      ['m=audio 1 UDP/TLS/RTP/SAVPF', 'm=video 1 UDP/TLS/RTP/SAVPF'],
    );
    assert.deepEqual(mlines[0]?.split(' ').slice(3), ['111', '0', '8']); // opus, PCMU, PCMA: offered and supported
    assert.deepEqual(mlines[1]?.split(' ').slice(3), ['96', '102', '108', '98']); // VP8, H264 ×2, VP9: no rtx/red/ulpfec
    assert.deepEqual(
      lines.filter((l) => l.startsWith('a=mid:')),
      ['a=mid:0', 'a=mid:1'],
    );
    assert.equal(lines.filter((l) => l === 'a=sendrecv').length, 2);
    assert.equal(lines.filter((l) => l === 'a=setup:active').length, 2);
    assert.equal(lines.filter((l) => l === 'a=rtcp-mux').length, 2);
    assert.ok(lines.some((l) => /^a=ice-ufrag:\S{4}$/.test(l)));
    assert.ok(lines.some((l) => /^a=ice-pwd:\S{22}$/.test(l)));
    assert.ok(lines.some((l) => /^a=fingerprint:sha-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}$/.test(l)));

    assert.equal(await call(ep, 'gatherCandidates'), null); // recorded `"value": null`
    const gathering = await done;
    assert.equal(gathering.type, 'IceGatheringDone');
    assert.equal(gathering.source, ep.id);
    assert.equal(candidates.length, 12); // 3 candidates × 2 components × 2 bundled m-lines, as recorded
    const first = candidates[0] as { candidate: Record<string, unknown>; source: string; tags: unknown };
    assert.deepEqual(Object.keys(first).sort(), ['candidate', 'source', 'tags', 'timestampMillis', 'type']);
    assert.deepEqual(first.tags, []);
    assert.deepEqual(Object.keys(first.candidate).sort(), [
      '__module__',
      '__type__',
      'candidate',
      'sdpMLineIndex',
      'sdpMid',
    ]);
    assert.equal(first.candidate.__type__, 'IceCandidate');
    assert.match(
      String(first.candidate.candidate),
      /^candidate:1 1 UDP 2015364095 127\.0\.0\.1 \d+ typ host$/,
    );
    assert.deepEqual([...new Set(candidates.map((c) => (c.candidate as { sdpMid: string }).sdpMid))].sort(), [
      '0',
      '1',
    ]);
    dispose(client);
  });

  test('a recvonly offer gets a sendonly answer (video first, as offered)', async () => {
    const kms = await startKms();
    const { client } = await connect(kms);
    const pipeline = await call<Remote>(client, 'create', 'MediaPipeline');
    const ep = await call<Remote>(pipeline, 'create', 'WebRtcEndpoint');
    const answer = await call<string>(ep, 'processOffer', chromeRecvOnlyOffer);
    const lines = answer.split('\r\n');
    assert.deepEqual(
      lines.filter((l) => l.startsWith('m=')).map((l) => l.split(' ')[0]),
      ['m=video', 'm=audio'],
    );
    assert.equal(lines.filter((l) => l === 'a=sendonly').length, 2);
    assert.ok(!lines.includes('a=sendrecv'));
    dispose(client);
  });

  test('simulated ICE connection and media flow: publisher → viewer', async () => {
    const kms = await startKms();
    const { client } = await connect(kms);
    const pipeline = await call<Remote>(client, 'create', 'MediaPipeline');
    const pub = await call<Remote>(pipeline, 'create', 'WebRtcEndpoint');
    const view = await call<Remote>(pipeline, 'create', 'WebRtcEndpoint');
    const pubConnected = nextEvent(pub, 'ConnectionStateChanged');
    const pubVideoOut = nextEvent(pub, 'MediaFlowOutStateChanged', (d) => d.mediaType === 'VIDEO');
    const viewVideoIn = nextEvent(view, 'MediaFlowInStateChanged', (d) => d.mediaType === 'VIDEO');
    await call(pub, 'processOffer', chromeOffer);
    await call(pub, 'gatherCandidates');
    await call(pub, 'addIceCandidate', chromeCandidate);
    assert.deepEqual((await pubConnected).newState, 'CONNECTED');
    assert.equal((await pubVideoOut).state, 'FLOWING');
    assert.equal(await call(pub, 'isMediaFlowingOut', 'VIDEO'), true);
    await call(view, 'processOffer', chromeRecvOnlyOffer);
    await call(view, 'gatherCandidates');
    await call(view, 'addIceCandidate', chromeCandidate);
    await call(pub, 'connect', view);
    const flowing = await viewVideoIn;
    assert.deepEqual(
      { mediaType: flowing.mediaType, padName: flowing.padName, state: flowing.state },
      { mediaType: 'VIDEO', padName: 'default', state: 'FLOWING' },
    );
    assert.equal(await call(view, 'isMediaFlowingIn', 'VIDEO'), true);
    dispose(client);
  });

  test('release of a pipeline releases its children; a released object is 40101 MEDIA_OBJECT_NOT_FOUND', async () => {
    const kms = await startKms();
    const { client } = await connect(kms);
    const pipeline = await call<Remote>(client, 'create', 'MediaPipeline');
    const a = await call<Remote>(pipeline, 'create', 'WebRtcEndpoint');
    const b = await call<Remote>(pipeline, 'create', 'PassThrough');
    await call(a, 'connect', b);
    assert.equal(kms.connections().length, 3); // AUDIO, DATA, VIDEO
    await call(pipeline, 'release');
    assert.deepEqual(kms.objects(), []);
    assert.deepEqual(kms.connections(), []);
    const err = await callError(a, 'getName');
    assert.equal(err.code, 40101);
    assert.equal(err.data?.type, 'MEDIA_OBJECT_NOT_FOUND');
    assert.equal(err.message, `Object '${a.id}' not found`);
    assert.ok(err instanceof ReferenceError); // kurento-client maps 40101 to ReferenceError
    dispose(client);
  });

  test("pitfall: processOffer('garbage') fails with 40201 SDP_PARSE_ERROR through a callback", async () => {
    const kms = await startKms();
    const { client } = await connect(kms);
    const pipeline = await call<Remote>(client, 'create', 'MediaPipeline');
    const rtp = await call<Remote>(pipeline, 'create', 'RtpEndpoint');
    const err = await callError(rtp, 'processOffer', 'garbage');
    assert.equal(err.code, 40201);
    assert.equal(err.data?.type, 'SDP_PARSE_ERROR');
    assert.equal(err.message, 'Invalid SDP');
    dispose(client);
  });

  test('pitfall: alpha.setMaster(hubPort, 1) with an awaited hubPort sends an object → 40001; hubPort.id works', async () => {
    const kms = await startKms();
    const { client } = await connect(kms);
    const pipeline = await call<Remote>(client, 'create', 'MediaPipeline');
    const alpha = await call<Remote>(pipeline, 'create', 'AlphaBlending');
    const port = await call<Remote>(pipeline, 'create', 'HubPort', { hub: alpha });
    assert.ok(port.id.startsWith(`${alpha.id}/`)); // HubPorts live under their hub
    // Whatever a promise resolves with (here: `call`'s promise) is kurento-client's "unthenable"
    // copy of the MediaObject, not `instanceof MediaObject` (README pitfall 2).
    const awaited = port;
    const err = await callError(alpha, 'setMaster', awaited, 1);
    assert.equal(err.code, 40001);
    assert.equal(err.data?.type, 'MARSHALL_ERROR');
    assert.equal(err.message, "'source' parameter should be a string");
    const sent = kms.calls({ operation: 'setMaster' })[0]?.params as { operationParams: { source: unknown } };
    assert.equal(typeof sent.operationParams.source, 'object');
    assert.equal(await call(alpha, 'setMaster', awaited.id, 1), null);
    const err2 = await callError(alpha, 'setPortProperties', 0.7, 0.7, 2, 0.28, 0.28, awaited);
    assert.equal(err2.message, "'port' parameter should be a string");
    dispose(client);
  });

  test('AlphaBlending setMaster / setPortProperties answer the errors of the recorded real KMS (mixers 154–165)', async () => {
    const kms = await startKms();
    const { client } = await connect(kms);
    const pipeline = await call<Remote>(client, 'create', 'MediaPipeline');
    const alpha = await call<Remote>(pipeline, 'create', 'AlphaBlending');
    const master = await call<Remote>(alpha, 'createHubPort');
    const pip = await call<Remote>(alpha, 'createHubPort');
    assert.equal(await call(alpha, 'setMaster', master.id, 1), null);
    assert.equal(await call(alpha, 'setPortProperties', 0.7, 0.7, 2, 0.28, 0.28, pip.id), null);
    assert.deepEqual(kms.alphaBlendingLayout(alpha.id), {
      master: { port: master.id, zOrder: 1 },
      ports: {
        [pip.id]: { relativeX: 0.7, relativeY: 0.7, zOrder: 2, relativeWidth: 0.28, relativeHeight: 0.28 },
      },
    });
    const unknown = await callError(alpha, 'setMaster', 'no-such-port', 1);
    assert.deepEqual([unknown.code, unknown.message], [40101, "Object 'no-such-port' not found"]);
    // zOrder 1.5 and -1, relative values out of [0, 1]: accepted (jsoncpp converts 1.5 to an int).
    assert.equal(await call(alpha, 'setMaster', master.id, 1.5), null);
    assert.equal(await call(alpha, 'setMaster', master.id, -1), null);
    assert.equal(await call(alpha, 'setPortProperties', 2, -1, 2, 5, 5, pip.id), null);
    // kurento-client checks types itself, so the malformed values go out on a raw socket.
    const c = await rawClient(kms.url);
    const invoke = (operation: string, operationParams: Record<string, unknown>) =>
      c.send('invoke', { object: alpha.id, operation, operationParams });
    const zString = await invoke('setMaster', { source: master.id, zOrder: 'top' });
    assert.deepEqual(zString.error, {
      code: 40001,
      data: { type: 'MARSHALL_ERROR' },
      message: "'zOrder' parameter should be a integer",
    });
    const zMissing = await invoke('setMaster', { source: master.id });
    assert.equal(zMissing.error?.message, "'zOrder' parameter should be a integer");
    const xString = await invoke('setPortProperties', {
      relativeX: 'x',
      relativeY: 0.5,
      zOrder: 1,
      relativeWidth: 0.5,
      relativeHeight: 0.5,
      port: pip.id,
    });
    assert.deepEqual(xString.error, {
      code: 40001,
      data: { type: 'MARSHALL_ERROR' },
      message: "'relativeX' parameter should be a double",
    });
    assert.deepEqual(kms.crashingCalls, []);
    c.close();
    dispose(client);
  });

  test('setMaster with anything but a HubPort of that AlphaBlending would crash a real KMS: error 49999, kms.crashingCalls', async () => {
    const kms = await startKms();
    const { client } = await connect(kms);
    const pipeline = await call<Remote>(client, 'create', 'MediaPipeline');
    const alpha = await call<Remote>(pipeline, 'create', 'AlphaBlending');
    const composite = await call<Remote>(pipeline, 'create', 'Composite');
    const foreignPort = await call<Remote>(composite, 'createHubPort');
    const endpoint = await call<Remote>(pipeline, 'create', 'WebRtcEndpoint');
    for (const id of [foreignPort.id, endpoint.id]) {
      const err = await callError(alpha, 'setMaster', id, 1);
      assert.equal(err.code, WOULD_CRASH_CODE);
      assert.equal(err.data?.type, WOULD_CRASH_TYPE);
      assert.match(err.message, /real KMS 7\.3 would have crashed/);
    }
    const err = await callError(alpha, 'setPortProperties', 0.7, 0.7, 2, 0.28, 0.28, foreignPort.id);
    assert.equal(err.code, WOULD_CRASH_CODE);
    assert.deepEqual(
      kms.crashingCalls.map((c) => [c.object, c.operation, c.params.source ?? c.params.port]),
      [
        [alpha.id, 'setMaster', foreignPort.id],
        [alpha.id, 'setMaster', endpoint.id],
        [alpha.id, 'setPortProperties', foreignPort.id],
      ],
    );
    assert.equal(kms.alphaBlendingLayout(alpha.id), undefined);
    dispose(client);
  });

  test('hubs: ports are children of their hub, the pipeline lists the hub only; a hub is no MediaElement', async () => {
    const kms = await startKms();
    const { client } = await connect(kms);
    const pipeline = await call<Remote>(client, 'create', 'MediaPipeline');
    const composite = await call<Remote>(pipeline, 'create', 'Composite', {
      width: 1280,
      height: 720,
      framerate: 30,
    });
    const a = await call<Remote>(composite, 'createHubPort');
    const b = await call<Remote>(composite, 'createHubPort');
    assert.match(a.id, new RegExp(`^${composite.id}/[0-9a-f-]{36}_kurento\\.HubPort$`));
    // kurento-client turns the ids getChildren answers into MediaObjects.
    const children = async (o: Remote): Promise<string[]> =>
      (await call<Remote[]>(o, 'getChildren')).map((x) => x.id).sort();
    assert.deepEqual(await children(composite), [a.id, b.id].sort());
    assert.deepEqual(await children(pipeline), [composite.id]);
    assert.deepEqual(
      kms
        .objects('HubPort')
        .map((o) => o.id)
        .sort(),
      [a.id, b.id].sort(),
    );
    const c = await rawClient(kms.url);
    const res = await c.send('invoke', {
      object: composite.id,
      operation: 'getSinkConnections',
    });
    assert.equal(res.error?.code, 40105);
    c.close();
    await call(b, 'release');
    assert.deepEqual(await children(composite), [a.id]);
    await call(composite, 'release');
    assert.deepEqual(kms.objects(), [{ id: pipeline.id, type: 'MediaPipeline' }]);
    dispose(client);
  });

  test('switching: oldSource.disconnect(sink) after newSource.connect(sink) unlinks the sink (mixers 128–134, 263)', async () => {
    const kms = await startKms();
    const { client } = await connect(kms);
    const pipeline = await call<Remote>(client, 'create', 'MediaPipeline');
    const composite = await call<Remote>(pipeline, 'create', 'Composite');
    const out = await call<Remote>(composite, 'createHubPort');
    const pub = await call<Remote>(pipeline, 'create', 'WebRtcEndpoint');
    const viewer = await call<Remote>(pipeline, 'create', 'WebRtcEndpoint');
    await call(out, 'connect', viewer);
    await call(pub, 'connect', viewer); // the switch: out no longer lists the viewer
    assert.deepEqual(await call(out, 'getSinkConnections'), []);
    assert.equal(await call(viewer, 'requestKeyframe'), null); // a subscriber: accepted
    await call(out, 'disconnect', viewer); // stale: unlinks the viewer
    assert.deepEqual(await call(viewer, 'getSourceConnections'), []);
    const pubSinks = await call<Array<{ sink: string }>>(pub, 'getSinkConnections');
    assert.deepEqual(
      pubSinks.map((c) => c.sink),
      [viewer.id, viewer.id, viewer.id],
    );
    assert.deepEqual(kms.unlinkedSinks(), [viewer.id]);
    assert.ok(kms.connections().every((c) => c.unlinked === true && c.source === pub.id));
    const err = await callError(viewer, 'requestKeyframe');
    assert.equal(err.code, 40111);
    await call(pub, 'disconnect', viewer); // still listed by pub, as recorded (182, 263)
    assert.equal((await call<unknown[]>(pub, 'getSinkConnections')).length, 3);
    await call(viewer, 'release');
    assert.deepEqual(kms.connections(), []);
    assert.deepEqual(kms.unlinkedSinks(), []);
    dispose(client);
  });

  test('a clean switch (connect alone, or disconnect the current source first) unlinks nothing', async () => {
    const kms = await startKms();
    const { client } = await connect(kms);
    const pipeline = await call<Remote>(client, 'create', 'MediaPipeline');
    const [a, b, viewer] = await Promise.all(
      [0, 1, 2].map(() => call<Remote>(pipeline, 'create', 'WebRtcEndpoint')),
    );
    assert.ok(a && b && viewer);
    await call(a, 'connect', viewer);
    await call(b, 'connect', viewer);
    await call(b, 'disconnect', viewer);
    await call(a, 'connect', viewer);
    const sources = await call<Array<{ source: string }>>(viewer, 'getSourceConnections');
    assert.deepEqual(
      sources.map((c) => c.source),
      [a.id, a.id, a.id],
    );
    assert.deepEqual(kms.unlinkedSinks(), []);
    dispose(client);
  });

  test('requestKeyframe is 40111 unless a source feeds the endpoint; getUsedCpu(0) is null; FaceOverlayFilter params', async () => {
    const kms = await startKms();
    const { client } = await connect(kms);
    const manager = await call<Remote>(client, 'getServerManager');
    assert.equal(await call(manager, 'getUsedCpu', 0), null);
    const pipeline = await call<Remote>(client, 'create', 'MediaPipeline');
    const pub = await call<Remote>(pipeline, 'create', 'WebRtcEndpoint');
    const rtp = await call<Remote>(pipeline, 'create', 'RtpEndpoint');
    for (const ep of [pub, rtp]) {
      const err = await callError(ep, 'requestKeyframe');
      assert.deepEqual(
        [err.code, err.data?.type, err.message],
        [
          40111,
          'MEDIA_OBJECT_OPERATION_NOT_SUPPORTED',
          'Keyframe request failed (must be requested from a subscriber element)',
        ],
      );
    }
    await call(pub, 'connect', rtp);
    assert.equal(await call(rtp, 'requestKeyframe'), null);
    const face = await call<Remote>(pipeline, 'create', 'FaceOverlayFilter');
    await call(face, 'setOverlayedImage', 'not a uri', 0, 0, 1, 1); // accepted, as recorded (252)
    assert.deepEqual(kms.overlayedImage(face.id), {
      uri: 'not a uri',
      offsetXPercent: 0,
      offsetYPercent: 0,
      widthPercent: 1,
      heightPercent: 1,
    });
    const c = await rawClient(kms.url);
    const bad = await c.send('invoke', {
      object: face.id,
      operation: 'setOverlayedImage',
      operationParams: {
        uri: 'http://x/o.png',
        offsetXPercent: 'x',
        offsetYPercent: 0,
        widthPercent: 1,
        heightPercent: 1,
      },
    });
    assert.equal(bad.error?.message, "'offsetXPercent' parameter should be a double");
    c.close();
    await call(face, 'unsetOverlayedImage');
    assert.equal(kms.overlayedImage(face.id), undefined);
    dispose(client);
  });

  test('connect across pipelines fails with 40004 CONNECT_ERROR (as the recorded frames show)', async () => {
    const kms = await startKms();
    const { client } = await connect(kms);
    const p1 = await call<Remote>(client, 'create', 'MediaPipeline');
    const p2 = await call<Remote>(client, 'create', 'MediaPipeline');
    const a = await call<Remote>(p1, 'create', 'WebRtcEndpoint');
    const b = await call<Remote>(p2, 'create', 'PassThrough');
    const err = await callError(b, 'connect', a);
    assert.equal(err.code, 40004);
    assert.equal(err.data?.type, 'CONNECT_ERROR');
    assert.equal(err.message, 'Media elements do not share pipeline');
    assert.deepEqual(kms.connections(), []);
    dispose(client);
  });

  test('a new source replaces the old one on the sink (getSourceConnections lists only the new one)', async () => {
    const kms = await startKms();
    const { client } = await connect(kms);
    const pipeline = await call<Remote>(client, 'create', 'MediaPipeline');
    const pub = await call<Remote>(pipeline, 'create', 'WebRtcEndpoint');
    const filter = await call<Remote>(pipeline, 'create', 'FaceOverlayFilter');
    const viewer = await call<Remote>(pipeline, 'create', 'WebRtcEndpoint');
    await call(filter, 'setOverlayedImage', 'http://127.0.0.1/hat.png', -0.35, -1.2, 1.6, 1.6);
    await call(pub, 'connect', viewer);
    await call(pub, 'connect', filter);
    await call(filter, 'connect', viewer);
    const sources = await call<Array<Record<string, unknown>>>(viewer, 'getSourceConnections');
    assert.deepEqual(
      sources.map((c) => [c.source, c.type]),
      [
        [filter.id, 'AUDIO'],
        [filter.id, 'DATA'],
        [filter.id, 'VIDEO'],
      ],
    );
    assert.deepEqual(Object.keys(sources[0] ?? {}).sort(), [
      '__module__',
      '__type__',
      'sink',
      'sinkDescription',
      'source',
      'sourceDescription',
      'type',
    ]);
    const sinks = await call<Array<Record<string, unknown>>>(pub, 'getSinkConnections', 'VIDEO');
    assert.deepEqual(
      sinks.map((c) => c.sink),
      [filter.id],
    );
    dispose(client);
  });

  test('RtpEndpoint SDPs advertise the configured address with allocated even ports', async () => {
    const kms = await startKms({ rtpAddress: '192.0.2.10' });
    const { client } = await connect(kms);
    const pipeline = await call<Remote>(client, 'create', 'MediaPipeline');
    const sender = await call<Remote>(pipeline, 'create', 'RtpEndpoint');
    const offer = await call<string>(sender, 'generateOffer');
    assert.ok(offer.includes('c=IN IP4 192.0.2.10\r\n'));
    const receiver = await call<Remote>(pipeline, 'create', 'RtpEndpoint');
    const answer = await call<string>(receiver, 'processOffer', ffmpegRtpOffer);
    const lines = answer.split('\r\n');
    assert.ok(lines.includes('c=IN IP4 192.0.2.10'));
    const audio = /^m=audio (\d+) RTP\/AVP 96$/.exec(lines.find((l) => l.startsWith('m=audio')) ?? '');
    const video = /^m=video (\d+) RTP\/AVP 103$/.exec(lines.find((l) => l.startsWith('m=video')) ?? '');
    assert.ok(audio && video);
    assert.equal(Number(audio[1]) % 2, 0);
    assert.ok(lines.includes(`a=rtcp:${Number(audio[1]) + 1}`));
    assert.ok(lines.includes('a=recvonly'));
    assert.ok(lines.includes('a=fmtp:103 packetization-mode=1'));
    dispose(client);
  });

  test('ServerManager: getInfo factories as recorded, getPipelines lists ids (incl. out-of-band pipelines)', async () => {
    const kms = await startKms();
    const leftover = kms.createPipelineDirectly();
    const { client } = await connect(kms);
    const sm = await call<Remote>(client, 'getServerManager');
    const info = await call<{ version: string; modules: Array<{ name: string; factories: string[] }> }>(
      sm,
      'getInfo',
    );
    assert.equal(info.version, '7.3.1-dev');
    assert.deepEqual(Object.fromEntries(info.modules.map((m) => [m.name, m.factories])), {
      core: ['HubPort', 'MediaPipeline', 'PassThrough'],
      elements: [
        'AlphaBlending',
        'Composite',
        'Dispatcher',
        'DispatcherOneToMany',
        'HttpPostEndpoint',
        'Mixer',
        'PlayerEndpoint',
        'RecorderEndpoint',
        'RtpEndpoint',
        'WebRtcEndpoint',
      ],
      filters: ['FaceOverlayFilter', 'GStreamerFilter', 'ImageOverlayFilter', 'ZBarFilter'],
    });
    const pipelines = await call<Remote[]>(sm, 'getPipelines'); // kurento-client turns ids into objects
    assert.deepEqual(
      pipelines.map((p) => p.id),
      [leftover],
    );
    await call(pipelines[0] as Remote, 'release');
    assert.deepEqual(kms.objects(), []);
    dispose(client);
  });

  test('generic getters/setters from the kmd answer defaults and keep values', async () => {
    const kms = await startKms();
    const { client } = await connect(kms);
    const pipeline = await call<Remote>(client, 'create', 'MediaPipeline');
    const ep = await call<Remote>(pipeline, 'create', 'WebRtcEndpoint');
    assert.equal(await call(ep, 'getName'), ep.id);
    await call(ep, 'setName', 'publisher');
    assert.equal(await call(ep, 'getName'), 'publisher');
    assert.equal(await call(ep, 'getMinVideoRecvBandwidth'), 0);
    await call(ep, 'setMaxVideoSendBandwidth', 2000);
    assert.equal(await call(ep, 'getMaxVideoSendBandwidth'), 2000);
    assert.equal(await call(ep, 'getStunServerAddress'), '');
    const composite = await call<Remote>(pipeline, 'create', 'Composite');
    assert.match(composite.id, /_kurento\.Composite$/);
    dispose(client);
  });

  test('failNext answers the next matching request with the given error, once', async () => {
    const kms = await startKms();
    const { client } = await connect(kms);
    const pipeline = await call<Remote>(client, 'create', 'MediaPipeline');
    const ep = await call<Remote>(pipeline, 'create', 'WebRtcEndpoint');
    kms.failNext(
      { operation: 'processOffer' },
      {
        code: 40208,
        message: 'Endpoint already negotiated',
        data: { type: 'SDP_END_POINT_ALREADY_NEGOTIATED' },
      },
    );
    const err = await callError(ep, 'processOffer', chromeOffer);
    assert.equal(err.code, 40208);
    assert.equal(err.data?.type, 'SDP_END_POINT_ALREADY_NEGOTIATED');
    assert.match(await call<string>(ep, 'processOffer', chromeOffer), /^v=0\r\n/);
    assert.equal(kms.calls({ method: 'invoke', operation: 'processOffer' }).length, 2);
    dispose(client);
  });

  test('delay slows matching answers; hang + request_timeout gives "Request has timed out"', async () => {
    const kms = await startKms();
    const { client } = await connect(kms, { request_timeout: 400 });
    const pipeline = await call<Remote>(client, 'create', 'MediaPipeline');
    kms.delay(250, { operation: 'getName' });
    const t0 = Date.now();
    await call(pipeline, 'getName');
    assert.ok(Date.now() - t0 >= 240);
    kms.delay(0);
    kms.hang();
    const err = await quietly(() => callError(pipeline, 'create', 'PassThrough'));
    assert.equal(err.message, 'Request has timed out');
    assert.equal(err.code, undefined);
    kms.resume(); // the held create is processed now: the server has an object the client never learnt of
    await sleep(50);
    assert.equal(kms.objects('PassThrough').length, 1);
    dispose(client);
  });

  test('dropConnections: the client reconnects, resumes its session with `connect`, and keeps working', async () => {
    const kms = await startKms();
    const { client } = await connect(kms);
    const pipeline = await call<Remote>(client, 'create', 'MediaPipeline');
    const ep = await call<Remote>(pipeline, 'create', 'WebRtcEndpoint');
    const errorEvent = nextEvent(ep, 'Error', () => true, 5000);
    await call(pipeline, 'getName'); // the subscription is sent before this request
    const sessionId = client.sessionId;
    const disconnected = new Promise((resolve) => client._re.once('disconnect', resolve));
    const reconnected = new Promise<boolean>((resolve) => client.once('reconnected', resolve));
    await quietly(async () => {
      kms.dropConnections();
      await disconnected;
      assert.equal(await reconnected, true); // same session
    });
    assert.deepEqual(
      kms.calls({ method: 'connect' }).map((c) => c.params),
      [{ sessionId }],
    );
    await call<Remote>(pipeline, 'create', 'PassThrough');
    assert.equal(kms.objects().length, 3);
    // A subscription made before the drop: events of the session follow it to the new connection.
    kms.emit(ep.id, 'Error', { description: 'boom', errorCode: 1, type: 'UNEXPECTED_ERROR' });
    const error = await errorEvent;
    assert.deepEqual([error.description, error.type], ['boom', 'UNEXPECTED_ERROR']);
    dispose(client);
  });

  test('dropConnections({forget}) / restart(): the session is unknown (reconnected false), old ids are 40101', async () => {
    const kms = await startKms();
    const { client } = await connect(kms);
    const pipeline = await call<Remote>(client, 'create', 'MediaPipeline');
    await call(pipeline, 'getName');
    const reconnected = new Promise<boolean>((resolve) => client.once('reconnected', resolve));
    await quietly(async () => {
      kms.dropConnections({ forget: true });
      assert.equal(await reconnected, false);
    });
    assert.equal((await callError(pipeline, 'getName')).code, 40101);

    const port = kms.port;
    const errors: string[] = [];
    client._re.on('error', (e: NodeJS.ErrnoException) => errors.push(String(e.code)));
    const again = new Promise<boolean>((resolve) => client.once('reconnected', resolve));
    await quietly(async () => {
      await kms.stop();
      await sleep(300); // kurento-client retries (fibonacci backoff from 100 ms) and gets refused
      await kms.restart();
      assert.equal(await again, false);
    });
    assert.equal(kms.port, port);
    assert.ok(errors.includes('ECONNREFUSED'));
    assert.deepEqual(kms.objects(), []);
    await call(client, 'create', 'MediaPipeline');
    assert.equal(kms.objects('MediaPipeline').length, 1);
    dispose(client);
  });

  test('pitfall: without an error listener on client._re, KMS going away kills the process', async () => {
    const script = `
      import { FakeKms } from './test/support/FakeKms.ts';
      const kurento = (await import('kurento-client')).default;
      const kms = await FakeKms.start();
      const client = kurento(kms.url);
      await new Promise((resolve) => client.then(() => resolve()));
      await kms.stop();
      setTimeout(() => { process.stdout.write('SURVIVED'); process.exit(0); }, 3000);
    `;
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', script],
        { cwd: repoRoot, timeout: 20000 },
        (error, stdout, stderr) => resolve({ code: error ? (error.code as number) : 0, stdout, stderr }),
      );
    });
    assert.notEqual(result.code, 0);
    assert.ok(!result.stdout.includes('SURVIVED'));
    assert.match(result.stderr, /Unhandled 'error' event[\s\S]*ECONNREFUSED/);
  });
});

describe('FakeKms with media: a hub forwards one input out of its ports (it does not mix)', () => {
  /** An RTP offer like ffmpeg's: H.264 (packetization-mode 1) sent to the endpoint. */
  const h264Offer = [
    'v=0',
    'o=- 0 0 IN IP4 127.0.0.1',
    's=ffmpeg',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    'm=video 9 RTP/AVP 96',
    'a=rtpmap:96 H264/90000',
    'a=fmtp:96 packetization-mode=1',
    'a=sendonly',
    '',
  ].join('\r\n');

  test(
    'Composite: the first connected input, then the next when it goes; AlphaBlending: its master',
    { timeout: 30000 },
    async () => {
      const kms = await startKms({ media: { videoCodecs: ['H264'] } });
      const { client } = await connect(kms);
      const pipeline = await call<Remote>(client, 'create', 'MediaPipeline');
      const sockets: dgram.Socket[] = [];
      const timers: NodeJS.Timeout[] = [];
      const udp = async (): Promise<dgram.Socket> => {
        const sock = dgram.createSocket('udp4');
        sockets.push(sock);
        await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
        return sock;
      };
      /** An RtpEndpoint fed with H.264-typed RTP whose payload starts with `tag` (the fake never decodes). */
      const input = async (tag: string): Promise<Remote> => {
        const ep = await call<Remote>(pipeline, 'create', 'RtpEndpoint');
        const answer = await call<string>(ep, 'processOffer', h264Offer);
        const port = Number(/^m=video (\d+) /m.exec(answer)?.[1]);
        const sock = await udp();
        let seq = 0;
        const ssrc = tag.charCodeAt(0) * 0x10001;
        timers.push(
          setInterval(() => {
            const pkt = Buffer.alloc(20);
            pkt.writeUInt8(0x80, 0);
            pkt.writeUInt8(0x80 | 96, 1);
            pkt.writeUInt16BE(++seq & 0xffff, 2);
            pkt.writeUInt32BE(seq * 3000, 4);
            pkt.writeUInt32BE(ssrc, 8);
            pkt.writeUInt8(0x41, 12); // a non-IDR slice NAL header
            pkt.write(tag, 13);
            sock.send(pkt, port, '127.0.0.1');
          }, 10),
        );
        return ep;
      };
      try {
        const [inA, inB] = [await input('A'), await input('B')];
        // The viewer: an RtpEndpoint offering to a local socket; resolves on a packet tagged `tag`.
        const viewerSock = await udp();
        const out = await call<Remote>(pipeline, 'create', 'RtpEndpoint');
        await call(out, 'generateOffer');
        const port = viewerSock.address().port;
        await call(
          out,
          'processAnswer',
          [
            'v=0',
            'o=- 0 0 IN IP4 127.0.0.1',
            's=viewer',
            'c=IN IP4 127.0.0.1',
            't=0 0',
            `m=audio ${port} RTP/AVPF 96`,
            'a=rtpmap:96 opus/48000/2',
            'a=recvonly',
            `m=video ${port} RTP/AVPF 109`,
            'a=rtpmap:109 H264/90000',
            'a=fmtp:109 packetization-mode=1',
            'a=recvonly',
            '',
          ].join('\r\n'),
        );
        const sees = (tag: string): Promise<void> =>
          new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => {
              viewerSock.off('message', on);
              reject(new Error(`the viewer got no packet of ${tag} within 5 s`));
            }, 5000);
            const on = (buf: Buffer): void => {
              if (buf.length < 14 || buf.toString('latin1', 13, 14) !== tag) return;
              clearTimeout(timer);
              viewerSock.off('message', on);
              resolve();
            };
            viewerSock.on('message', on);
          });

        const composite = await call<Remote>(pipeline, 'create', 'Composite');
        const [pA, pB, pOut] = [
          await call<Remote>(composite, 'createHubPort'),
          await call<Remote>(composite, 'createHubPort'),
          await call<Remote>(composite, 'createHubPort'),
        ];
        await call(inA, 'connect', pA);
        await call(inB, 'connect', pB);
        const seesA = sees('A');
        await call(pOut, 'connect', out);
        await seesA;
        assert.equal(kms.hubFeed(composite.id), pA.id);
        const seesB = sees('B');
        await call(pA, 'release');
        await seesB;
        assert.equal(kms.hubFeed(composite.id), pB.id);

        const alpha = await call<Remote>(pipeline, 'create', 'AlphaBlending');
        const [aA, aB, aOut] = [
          await call<Remote>(alpha, 'createHubPort'),
          await call<Remote>(alpha, 'createHubPort'),
          await call<Remote>(alpha, 'createHubPort'),
        ];
        await call(inA, 'connect', aA);
        await call(inB, 'connect', aB);
        await call(alpha, 'setMaster', aB.id, 1);
        const seesMasterB = sees('B');
        await call(aOut, 'connect', out); // switches the viewer from the Composite, by connect alone
        await seesMasterB;
        assert.equal(kms.hubFeed(alpha.id), aB.id);
        const seesMasterA = sees('A');
        await call(alpha, 'setMaster', aA.id, 1);
        await seesMasterA;
        assert.ok((kms.rtpStats(out.id)?.sent.find((st) => st.kind === 'video')?.packets ?? 0) > 0);
        assert.deepEqual(kms.crashingCalls, []);
      } finally {
        for (const t of timers) clearInterval(t);
        for (const sock of sockets) sock.close();
        await call(pipeline, 'release');
        dispose(client);
      }
    },
  );
});

describe('FakeKms on the wire', () => {
  test('ping, describe and session handling follow KMS (sorted keys, session injection)', async () => {
    const kms = await startKms();
    const c = await rawClient(kms.url);
    const pong = await c.send('ping', { interval: 5000 });
    assert.deepEqual(pong.result, { value: 'pong' }); // no session yet: no sessionId (recorded)
    const [d1, d2] = await Promise.all([
      c.send('describe', { object: 'manager_ServerManager' }),
      c.send('describe', { object: 'manager_ServerManager' }),
    ]);
    assert.deepEqual(d1.result, {
      hierarchy: ['kurento.MediaObject'],
      qualifiedType: 'kurento.ServerManager',
      sessionId: d1.result?.sessionId,
      type: 'ServerManager',
    });
    assert.equal(d2.result?.sessionId, d1.result?.sessionId); // pipelined requests join one session
    const pong2 = await c.send('ping');
    assert.equal(pong2.result?.sessionId, d1.result?.sessionId);
    assert.ok(c.frames.some((f) => f.text.startsWith('{"id":1,"jsonrpc":"2.0","result":')));
    c.close();
  });

  test('errors: unknown type, unknown operation, missing params, unknown event', async () => {
    const kms = await startKms();
    const c = await rawClient(kms.url);
    const unknownType = await c.send('create', { type: 'NoSuchElement' });
    assert.deepEqual(unknownType.error, {
      code: 40108,
      data: { type: 'MEDIA_OBJECT_NOT_AVAILABLE' },
      message: "Factory 'NoSuchElement' not found",
    });
    const pipeline = String((await c.send('create', { type: 'MediaPipeline' })).result?.value);
    const noOp = await c.send('invoke', { object: pipeline, operation: 'fly' });
    assert.equal(noOp.error?.code, 40105);
    assert.equal(noOp.error?.data?.type, 'MEDIA_OBJECT_METHOD_NOT_FOUND');
    const missing = await c.send('create', {
      type: 'WebRtcEndpoint',
      constructorParams: {},
    });
    assert.equal(missing.error?.code, 40107);
    const noObject = await c.send('invoke', { operation: 'getName' });
    assert.deepEqual(noObject.error, { code: -32000, message: "'object' parameter is required" });
    const badEvent = await c.send('subscribe', { object: pipeline, type: 'IceCandidateFound' });
    assert.equal(badEvent.error?.code, 40106);
    const unknownMethod = await c.send('fly', {});
    assert.equal(unknownMethod.error?.code, -32601);
    c.close();
  });

  test('events go only to the session subscribed to that object and type', async () => {
    const kms = await startKms();
    const a = await rawClient(kms.url);
    const b = await rawClient(kms.url);
    const pipeline = String((await a.send('create', { type: 'MediaPipeline' })).result?.value);
    const ep = String(
      (await a.send('create', { type: 'WebRtcEndpoint', constructorParams: { mediaPipeline: pipeline } }))
        .result?.value,
    );
    const sub = await a.send('subscribe', { object: ep, type: 'MediaStateChanged' });
    assert.match(String(sub.result?.value), /^[0-9a-f-]{36}$/);
    await b.send('describe', { object: ep });
    kms.emit(ep, 'MediaStateChanged', { newState: 'CONNECTED', oldState: 'DISCONNECTED' });
    kms.emit(ep, 'MediaFlowInStateChanged', { mediaType: 'VIDEO', padName: 'default', state: 'FLOWING' });
    await sleep(50);
    const events = (f: Array<{ msg: Frame }>) =>
      f.filter((x) => x.msg.method === 'onEvent').map((x) => x.msg);
    assert.equal(events(b.frames).length, 0);
    const got = events(a.frames);
    assert.equal(got.length, 1);
    assert.deepEqual(got[0]?.params?.value.object, ep);
    assert.deepEqual(Object.keys(got[0]?.params?.value.data ?? {}), [
      'newState',
      'oldState',
      'source',
      'tags',
      'timestampMillis',
      'type',
    ]);
    await a.send('unsubscribe', { object: ep, subscription: sub.result?.value });
    kms.emit(ep, 'MediaStateChanged', {});
    await sleep(50);
    assert.equal(events(a.frames).length, 1);
    a.close();
    b.close();
  });

  test('only /kurento is served', async () => {
    const kms = await startKms();
    const ws = new WebSocket(kms.url.replace('/kurento', '/other'));
    const status = await new Promise<number | undefined>((resolve) => {
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode));
      ws.on('error', () => resolve(undefined));
    });
    assert.equal(status, 404);
  });

  test('transaction with newref', async () => {
    const kms = await startKms();
    const c = await rawClient(kms.url);
    const res = await c.send('transaction', {
      operations: [
        { jsonrpc: '2.0', id: 0, method: 'create', params: { type: 'MediaPipeline' } },
        {
          jsonrpc: '2.0',
          id: 1,
          method: 'create',
          params: { type: 'PassThrough', constructorParams: { mediaPipeline: 'newref:0' } },
        },
      ],
    });
    const value = res.result?.value as Array<{ id: number; result: { value: string } }>;
    assert.equal(value.length, 2);
    assert.ok(value[1]?.result.value.startsWith(`${value[0]?.result.value}/`));
    assert.equal(kms.objects().length, 2);
    c.close();
  });
});

test('the kmd model matches the real KMS 7.3.1 kmd files in the shared folder', (t) => {
  const dir = path.join(sharedDir, 'kmd');
  if (!existsSync(dir)) {
    t.skip(`${dir} is missing`);
    return;
  }
  const model = KmdModel.load();
  // The shared files are the server's raw kmd: comments and raw newlines inside strings.
  const lenient = (text: string): unknown => {
    let out = '';
    let inString = false;
    for (let i = 0; i < text.length; i++) {
      const ch = text[i] as string;
      if (inString) {
        if (ch === '\\') {
          out += ch + (text[++i] ?? '');
          continue;
        }
        if (ch === '"') inString = false;
        out += ch === '\n' ? '\\n' : ch === '\r' ? '\\r' : ch === '\t' ? '\\t' : ch;
      } else if (ch === '/' && text[i + 1] === '/') {
        while (i < text.length && text[i] !== '\n') i++;
        out += '\n';
      } else {
        if (ch === '"') inString = true;
        out += ch;
      }
    }
    return JSON.parse(out.replace(/,(\s*[}\]])/g, '$1'));
  };
  let checked = 0;
  for (const file of readdirSync(dir)) {
    const kmd = lenient(readFileSync(path.join(dir, file), 'utf8')) as {
      remoteClasses?: Array<{
        name: string;
        extends?: string;
        methods?: Array<{ name: string; params?: Array<{ name: string; type: string; optional?: boolean }> }>;
        events?: string[];
      }>;
    };
    for (const c of kmd.remoteClasses ?? []) {
      const def = model.classDef(c.name);
      assert.ok(def, `class ${c.name}`);
      assert.equal(def.parent, c.extends, `${c.name} extends`);
      assert.deepEqual(def.events, c.events ?? [], `${c.name} events`);
      for (const m of c.methods ?? []) {
        assert.deepEqual(
          def.methods.get(m.name)?.params.map((p) => [p.name, p.type, p.optional]),
          (m.params ?? []).map((p) => [p.name, p.type, p.optional === true]),
          `${c.name}.${m.name}`,
        );
        checked++;
      }
    }
  }
  assert.ok(checked > 40);
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ErrorCode } from '../../src/protocol/index.js';
import type { RpcClient } from '../support/RpcClient.js';
import { chromeOffer, chromeRecvOnlyOffer } from '../support/sdp.js';
import { KmsInspector } from '../support/KmsInspector.js';
import { startTheia, type Theia } from '../support/theia.js';

const CANDIDATE = {
  candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 54321 typ host generation 0',
  sdpMid: '0',
  sdpMLineIndex: 0,
};

/** Waits until `check` passes, polling the KMS inspector (which has no events to wait on). */
async function eventually(check: () => Promise<void>, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

describe('going live and watching over WebRTC', () => {
  let theia: Theia;
  before(async () => (theia = await startTheia()));
  after(() => theia.close());

  test('a host goes live, three viewers watch, ICE flows both ways, and stopping leaves nothing in KMS', async () => {
    const host = await theia.signUp();
    const hostWs = await theia.connect();
    assert.deepEqual(await hostWs.request('authenticate', { token: host.token }), { user: host.user });
    const joined = await hostWs.request<{ role: string; room: { live: boolean } }>('joinRoom', {
      roomId: host.roomId,
    });
    assert.equal(joined.role, 'host');
    assert.equal(joined.room.live, false);

    // two logged-in viewers and one anonymous, all in the room before the live starts
    const viewers: RpcClient[] = [];
    for (let i = 0; i < 3; i++) {
      const token = i < 2 ? (await theia.signUp()).token : undefined;
      const ws = await theia.connect(token);
      const j = await ws.request<{ role: string }>('joinRoom', { roomId: host.roomId });
      assert.equal(j.role, 'viewer');
      viewers.push(ws);
    }
    await hostWs.next('viewerCountChanged', (p) => p.viewers === 3);

    const { liveId, liveCode } = await hostWs.request<{ liveId: string; liveCode: string }>('startLive');
    assert.match(liveId, /^[0-9a-f-]{36}$/);
    assert.ok(liveCode.length >= 20);
    for (const v of viewers) assert.deepEqual(await v.next('liveStarted'), { roomId: host.roomId, liveId });
    const verify = await theia.api('/api/lives/verify', { body: { liveId, liveCode } });
    assert.deepEqual(verify.body, { valid: true });
    assert.equal((await theia.api(`/api/rooms/${host.roomId}`)).body.room.live, true);

    // the host publishes; its candidate sent before the answer is queued, not lost
    hostWs.request('onIceCandidate', { endpoint: 'publish', candidate: CANDIDATE }).catch(() => undefined);
    const { sdpAnswer } = await hostWs.request<{ sdpAnswer: string }>('publishVideo', {
      sdpOffer: chromeOffer,
    });
    assert.match(sdpAnswer, /^v=0\r\n/);
    assert.match(sdpAnswer, /m=video/);
    const hostCandidate = await hostWs.next('iceCandidate');
    assert.equal(hostCandidate.endpoint, 'publish');
    assert.match(hostCandidate.candidate.candidate, /^candidate:/);

    for (const v of viewers) {
      await v.request('onIceCandidate', { endpoint: 'receive', candidate: CANDIDATE }).catch(() => undefined);
      const answer = await v.request<{ sdpAnswer: string }>('receiveVideo', {
        sdpOffer: chromeRecvOnlyOffer,
      });
      assert.match(answer.sdpAnswer, /^v=0\r\n/);
      const c = await v.next('iceCandidate');
      assert.equal(c.endpoint, 'receive');
      await v.request('onIceCandidate', { endpoint: 'receive', candidate: CANDIDATE });
    }
    await eventually(async () =>
      assert.deepEqual(await theia.inspector.elements(theia.pipelinePrefix), {
        MediaPipeline: 1,
        WebRtcEndpoint: 4,
      }),
    );
    if (theia.fake) {
      // browser → KMS candidates: the queued one and the later ones all reached an endpoint
      await eventually(() => {
        assert.ok(theia.fake!.calls({ operation: 'addIceCandidate' }).length >= 7);
        return Promise.resolve();
      });
      // each viewer endpoint is fed by the host's endpoint
      const hostEp = theia.fake.objects('WebRtcEndpoint')[0]!.id;
      assert.equal(theia.fake.connections().filter((c) => c.source === hostEp).length >= 3, true);
    }

    // a viewer leaves: its endpoint goes, the others stay
    await viewers[0]!.request('leaveRoom');
    await hostWs.next('viewerCountChanged', (p) => p.viewers === 2);
    await eventually(async () =>
      assert.deepEqual(await theia.inspector.elements(theia.pipelinePrefix), {
        MediaPipeline: 1,
        WebRtcEndpoint: 3,
      }),
    );
    // another closes its socket
    await viewers[1]!.close();
    await hostWs.next('viewerCountChanged', (p) => p.viewers === 1);
    await eventually(async () =>
      assert.deepEqual(await theia.inspector.elements(theia.pipelinePrefix), {
        MediaPipeline: 1,
        WebRtcEndpoint: 2,
      }),
    );

    await hostWs.request('stopLive');
    assert.deepEqual(await viewers[2]!.next('liveEnded'), { roomId: host.roomId, liveId, reason: 'stopped' });
    await eventually(async () => assert.deepEqual(await theia.inspector.pipelines(theia.pipelinePrefix), []));
    assert.deepEqual((await theia.api('/api/lives/verify', { body: { liveId, liveCode } })).body, {
      valid: false,
    });
    if (theia.fake) assert.deepEqual(theia.fake.objects(), []);
  });

  test('every host-only call is refused to viewers and anonymous sockets', async () => {
    const host = await theia.signUp();
    const other = await theia.signUp();
    const hostWs = await theia.connect(host.token);
    await hostWs.request('joinRoom', { roomId: host.roomId });
    await hostWs.request('startLive');
    const viewerWs = await theia.connect(other.token);
    const anonWs = await theia.connect();
    for (const ws of [viewerWs, anonWs]) await ws.request('joinRoom', { roomId: host.roomId });

    const refused = async (ws: RpcClient, method: string, params: unknown, code: ErrorCode) =>
      assert.rejects(ws.request(method, params), (err: { code: number }) => err.code === code);
    await refused(viewerWs, 'startLive', undefined, ErrorCode.Forbidden);
    await refused(viewerWs, 'stopLive', undefined, ErrorCode.Forbidden);
    await refused(viewerWs, 'publishVideo', { sdpOffer: chromeOffer }, ErrorCode.Forbidden);
    await refused(anonWs, 'startLive', undefined, ErrorCode.Unauthenticated);
    await refused(anonWs, 'stopLive', undefined, ErrorCode.Unauthenticated);
    await refused(anonWs, 'publishVideo', { sdpOffer: chromeOffer }, ErrorCode.Unauthenticated);
    await refused(anonWs, 'sendMessage', { text: 'hi' }, ErrorCode.Unauthenticated);
    const stopOverRest = await theia.api(`/api/rooms/${host.roomId}/live`, {
      method: 'DELETE',
      token: other.token,
    });
    assert.equal(stopOverRest.status, 403);
    assert.equal(stopOverRest.body.error.code, ErrorCode.Forbidden);

    // still live, and the owner can stop it over REST
    assert.equal((await theia.api(`/api/rooms/${host.roomId}`)).body.room.live, true);
    const stop = await theia.api(`/api/rooms/${host.roomId}/live`, { method: 'DELETE', token: host.token });
    assert.equal(stop.status, 204);
    assert.equal((await viewerWs.next('liveEnded')).reason, 'stopped');
    await eventually(async () => assert.deepEqual(await theia.inspector.pipelines(theia.pipelinePrefix), []));
  });

  test('the host disconnecting ends the live and releases its pipeline', async () => {
    const { host, hostWs, viewer, liveId } = await theia.goLive();
    hostWs.socket.terminate();
    assert.deepEqual(await viewer.next('liveEnded'), { roomId: host.roomId, liveId, reason: 'hostLeft' });
    await eventually(async () => assert.deepEqual(await theia.inspector.pipelines(theia.pipelinePrefix), []));
  });

  test('a viewer may ask for video before the host publishes and is fed once the host does', async () => {
    const host = await theia.signUp();
    const hostWs = await theia.connect(host.token);
    await hostWs.request('joinRoom', { roomId: host.roomId });
    await hostWs.request('startLive');
    const viewer = await theia.connect();
    await viewer.request('joinRoom', { roomId: host.roomId });
    await viewer.request('receiveVideo', { sdpOffer: chromeRecvOnlyOffer });
    await hostWs.request('publishVideo', { sdpOffer: chromeOffer });
    if (theia.fake) {
      const [first, second] = theia.fake.objects('WebRtcEndpoint');
      assert.ok(theia.fake.connections().some((c) => c.source === second!.id && c.sink === first!.id));
    }
    // the host publishing again replaces its endpoint; the viewer keeps its own
    await hostWs.request('publishVideo', { sdpOffer: chromeOffer });
    await eventually(async () =>
      assert.deepEqual(await theia.inspector.elements(theia.pipelinePrefix), {
        MediaPipeline: 1,
        WebRtcEndpoint: 2,
      }),
    );
    await hostWs.request('stopLive');
    await eventually(async () => assert.deepEqual(await theia.inspector.pipelines(theia.pipelinePrefix), []));
  });

  test('viewers negotiating at once while the host publishes are each fed by the program exactly once', async () => {
    const host = await theia.signUp();
    const hostWs = await theia.connect(host.token);
    await hostWs.request('joinRoom', { roomId: host.roomId });
    await hostWs.request('startLive');
    const viewers = await Promise.all(Array.from({ length: 20 }, () => theia.connect()));
    await Promise.all(viewers.map((v) => v.request('joinRoom', { roomId: host.roomId })));
    const connectsBefore = theia.fake?.calls({ operation: 'connect' }).length ?? 0;
    const receiving = viewers.map((v) => v.request('receiveVideo', { sdpOffer: chromeRecvOnlyOffer }));
    const publishing = hostWs.request('publishVideo', { sdpOffer: chromeOffer });
    await Promise.all([...receiving, publishing]);
    await eventually(async () =>
      assert.deepEqual(await theia.inspector.elements(theia.pipelinePrefix), {
        MediaPipeline: 1,
        WebRtcEndpoint: 21,
      }),
    );
    if (theia.fake) {
      const video = theia.fake.connections().filter((c) => c.mediaType === 'VIDEO');
      assert.equal(new Set(video.map((c) => c.source)).size, 1, 'one program source');
      assert.equal(new Set(video.map((c) => c.sink)).size, 20, 'every viewer fed');
      assert.equal(
        theia.fake.calls({ operation: 'connect' }).length - connectsBefore,
        20,
        'no viewer connected twice',
      );
    }
    await hostWs.request('stopLive');
  });

  test('an offer KMS cannot parse is a MediaError with the Kurento code, and leaks no endpoint', async () => {
    const host = await theia.signUp();
    const hostWs = await theia.connect(host.token);
    await hostWs.request('joinRoom', { roomId: host.roomId });
    await hostWs.request('startLive');
    await assert.rejects(
      hostWs.request('publishVideo', { sdpOffer: 'garbage' }),
      (err: { code: number; data?: { kmsCode?: number } }) => {
        assert.equal(err.code, ErrorCode.MediaError);
        assert.equal(err.data?.kmsCode, 40201); // SDP_PARSE_ERROR, as the real KMS 7.3 answered in the recording
        return true;
      },
    );
    await eventually(async () =>
      assert.deepEqual(await theia.inspector.elements(theia.pipelinePrefix), { MediaPipeline: 1 }),
    );
    // the live goes on: a good offer works
    await hostWs.request('publishVideo', { sdpOffer: chromeOffer });
    await hostWs.request('stopLive');
  });
});

describe('shutdown', () => {
  test('closing the app with a live room of many viewers releases every KMS object and does not crash', async () => {
    const theia = await startTheia();
    const { host } = await theia.goLive();
    const viewers = await Promise.all(Array.from({ length: 40 }, () => theia.connect()));
    await Promise.all(
      viewers.map(async (v) => {
        await v.request('joinRoom', { roomId: host.roomId });
        await v.request('receiveVideo', { sdpOffer: chromeRecvOnlyOffer });
      }),
    );
    // a few viewers leave just before the shutdown, so releases are still in flight during it
    for (const v of viewers.slice(0, 10)) void v.request('leaveRoom').catch(() => undefined);
    const roomClosed = viewers[20]!.next('roomClosed');
    const prefix = theia.pipelinePrefix;
    const inspector = await KmsInspector.connect(theia.kmsUri);
    try {
      await theia.app.close();
      assert.deepEqual(await roomClosed, { roomId: host.roomId, reason: 'shutdown' });
      assert.deepEqual(await inspector.pipelines(prefix), []);
    } finally {
      inspector.close();
      await theia.close();
    }
  });
});

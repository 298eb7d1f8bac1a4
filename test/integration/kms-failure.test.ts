import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { App } from '../../src/App.js';
import { loadConfig } from '../../src/config.js';
import { ErrorCode } from '../../src/protocol/index.js';
import { FakeKms } from '../support/FakeKms.js';
import { RpcClient } from '../support/RpcClient.js';
import { chromeOffer } from '../support/sdp.js';
import { tempDir } from '../support/tempDir.js';
import { NEEDS_FAKE, startTheia, type Theia } from '../support/theia.js';

const once = (emitter: { once(e: string, f: () => void): unknown }, event: string) =>
  new Promise<void>((resolve) => emitter.once(event, () => resolve()));

describe('KMS going away', { skip: NEEDS_FAKE }, () => {
  let theia: Theia;
  beforeEach(async () => (theia = await startTheia()));
  afterEach(() => theia.close());

  test('KMS crashing ends lives with mediaError, the app stays up, and serves again once KMS is back', async () => {
    const { host, hostWs, viewer, liveId } = await theia.goLive();
    const lost = once(theia.app.kms, 'lost');
    await theia.fake!.stop();
    await lost;
    for (const ws of [hostWs, viewer]) {
      assert.equal((await ws.next('mediaError')).code, ErrorCode.MediaUnavailable);
      assert.deepEqual(await ws.next('liveEnded'), {
        roomId: host.roomId,
        liveId,
        reason: 'mediaServerLost',
      });
    }
    assert.equal(theia.app.store.liveById(liveId)?.endReason, 'mediaServerLost');
    // while KMS is down: a clear error, not a hang
    await assert.rejects(
      hostWs.request('startLive'),
      (e: { code: number }) => e.code === ErrorCode.MediaUnavailable,
    );
    assert.equal((await theia.api('/api/rooms')).status, 200);

    const ready = once(theia.app.kms, 'ready');
    await theia.fake!.restart();
    await ready;
    await hostWs.request('startLive');
    await hostWs.request('publishVideo', { sdpOffer: chromeOffer });
    assert.equal(theia.fake!.objects('MediaPipeline').length, 1);
    await hostWs.request('stopLive');
  });

  test('a live started while KMS restarts waits for it instead of failing', async () => {
    const host = await theia.signUp();
    const hostWs = await theia.connect(host.token);
    await hostWs.request('joinRoom', { roomId: host.roomId });
    const lost = once(theia.app.kms, 'lost');
    await theia.fake!.stop();
    await lost;
    // the host presses "Go live" during the restart
    const starting = hostWs.request<{ liveId: string }>('startLive');
    await theia.fake!.restart();
    const { liveId } = await starting;
    assert.ok(liveId);
    await hostWs.request('publishVideo', { sdpOffer: chromeOffer });
    assert.equal(theia.fake!.objects('MediaPipeline').length, 1);
    await hostWs.request('stopLive');
  });

  test('a dropped connection to a KMS that kept running: leftover pipelines are released on reconnect', async () => {
    const { hostWs } = await theia.goLive();
    const lost = once(theia.app.kms, 'lost');
    const ready = once(theia.app.kms, 'ready');
    theia.fake!.dropConnections(); // KMS keeps its objects
    await lost;
    await hostWs.next('liveEnded');
    await ready;
    assert.deepEqual(theia.fake!.objects(), []);
  });

  test('a hung KMS: calls fail after KMS_CALL_TIMEOUT_MS with 5003 and the heartbeat declares it lost', async () => {
    const host = await theia.signUp();
    const hostWs = await theia.connect(host.token);
    await hostWs.request('joinRoom', { roomId: host.roomId });
    const lost = once(theia.app.kms, 'lost');
    theia.fake!.hang();
    await assert.rejects(
      hostWs.request('startLive'),
      (e: { code: number }) => e.code === ErrorCode.MediaUnavailable,
    );
    await lost;
    const ready = once(theia.app.kms, 'ready');
    theia.fake!.resume();
    await ready;
    const { liveId } = await hostWs.request<{ liveId: string }>('startLive');
    assert.ok(liveId);
    await hostWs.request('stopLive');
  });

  test('a failing KMS method surfaces as 5002 and the room stays usable', async () => {
    const host = await theia.signUp();
    const hostWs = await theia.connect(host.token);
    await hostWs.request('joinRoom', { roomId: host.roomId });
    theia.fake!.failNext(
      { method: 'create', type: 'MediaPipeline' },
      { code: 40000, message: 'Unexpected error' },
    );
    await assert.rejects(
      hostWs.request('startLive'),
      (e: { code: number }) => e.code === ErrorCode.MediaError,
    );
    await hostWs.request('startLive');
    await hostWs.request('stopLive');
    assert.deepEqual(theia.fake!.objects(), []);
  });
});

describe('start-up and shutdown', { skip: NEEDS_FAKE }, () => {
  let kms: FakeKms;
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  before(async () => (kms = await FakeKms.start()));
  after(() => kms.stop());
  beforeEach(async () => (tmp = await tempDir()));
  afterEach(() => tmp.remove());

  const config = (uri: string, instance = 'startup') =>
    loadConfig({
      HOST: '127.0.0.1',
      PORT: '0',
      DATA_DIR: tmp.dir,
      KMS_URI: uri,
      INSTANCE_ID: instance,
      KMS_CALL_TIMEOUT_MS: '1000',
      KMS_RECONNECT_MS: '100',
      DASH_EGRESS: 'off',
    });

  test('pipelines left by a crashed earlier run of this instance are released at start; others are kept', async () => {
    const crashed = await App.create(config(kms.url, 'crashy'));
    const signUp = await fetch(crashed.url + '/api/users', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'host1', password: 'password123' }),
    });
    const { token } = (await signUp.json()) as { token: string };
    const me = (await (
      await fetch(crashed.url + '/api/me', { headers: { authorization: `Bearer ${token}` } })
    ).json()) as {
      roomId: string;
    };
    const ws = await RpcClient.connect(crashed.url.replace('http', 'ws') + '/ws', token);
    await ws.request('joinRoom', { roomId: me.roomId });
    await ws.request('startLive');
    await ws.request('publishVideo', { sdpOffer: chromeOffer });
    const foreign = kms.createPipelineDirectly();
    // the crash: the KMS connection vanishes before anything is released
    crashed.kms.close();
    await ws.close();
    await crashed.close();
    assert.equal(kms.objects('MediaPipeline').length, 2);

    const restarted = await App.create(config(kms.url, 'crashy'));
    assert.deepEqual(
      kms.objects('MediaPipeline').map((o) => o.id),
      [foreign],
    );
    await restarted.close();
  });

  test('the app starts while KMS is down, answers 5003, and goes live once KMS is up', async () => {
    const down = await FakeKms.start();
    const uri = down.url;
    await down.stop();
    const app = await App.create(config(uri));
    try {
      assert.equal(app.kms.state, 'connecting');
      const res = await fetch(app.url + '/api/rooms');
      assert.equal(res.status, 200);
      const ready = once(app.kms, 'ready');
      await down.restart();
      await ready;
      assert.equal(app.kms.state, 'ready');
    } finally {
      await app.close();
      await down.stop();
    }
  });

  test('a corrupt data file stops start-up with an error naming it', async () => {
    const { writeFile } = await import('node:fs/promises');
    await writeFile(`${tmp.dir}/theia.json`, 'not json');
    await assert.rejects(App.create(config(kms.url)), /theia\.json/);
  });
});

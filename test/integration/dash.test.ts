/**
 * Serving DASH/HLS over HTTP (`/dash/<roomId>/…`, `/api/time`), the RTMP destinations API and the
 * WebRTC viewer limit, through the real app (its routers and security headers, store, auth, rooms,
 * fake KMS).
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ErrorCode } from '../../src/protocol/index.js';
import { RpcError } from '../support/RpcClient.js';
import { chromeOffer, chromeRecvOnlyOffer } from '../support/sdp.js';
import { startTheia, type Theia } from '../support/theia.js';

/** A raw GET, path sent as written (fetch would normalise `..` away). */
function rawGet(
  base: string,
  rawPath: string,
  method = 'GET',
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ hostname, port, path: rawPath, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('DASH over HTTP', () => {
  let theia: Theia;
  let http: { url: string };
  const roomId = '3f0c1d7e-5a4b-4c2d-9e8f-0a1b2c3d4e5f';

  before(async () => {
    theia = await startTheia();
    http = { url: theia.url };
    const dataDir = theia.app.config.dataDir; // the store's theia.json is there too: never served
    const room = path.join(dataDir, 'dash', roomId);
    await mkdir(room, { recursive: true });
    await writeFile(path.join(room, 'manifest.mpd'), '<?xml version="1.0"?><MPD/>');
    await writeFile(path.join(room, 'master.m3u8'), '#EXTM3U\n');
    await writeFile(path.join(room, 'media_0.m3u8'), '#EXTM3U\n');
    await writeFile(path.join(room, 'init-stream0-abc.m4s'), Buffer.alloc(64, 1));
    await writeFile(path.join(room, 'chunk-stream0-abc-00001.m4s'), Buffer.alloc(1000, 2));
    await writeFile(path.join(room, 'chunk-stream0-abc-00002.m4s.tmp'), Buffer.alloc(10, 3));
    await writeFile(path.join(room, '.hidden.m4s'), 'x');
    await writeFile(path.join(dataDir, 'dash', 'stray.mpd'), 'outside any room');
  });
  after(() => theia?.close());

  test('serves the manifest, playlists and segments with their content types and caching', async () => {
    const cases = [
      ['manifest.mpd', 'application/dash+xml', 'no-cache'],
      ['master.m3u8', 'application/vnd.apple.mpegurl', 'no-cache'],
      ['media_0.m3u8', 'application/vnd.apple.mpegurl', 'no-cache'],
      ['init-stream0-abc.m4s', 'video/iso.segment', 'public, max-age=86400, immutable'],
      ['chunk-stream0-abc-00001.m4s', 'video/iso.segment', 'public, max-age=86400, immutable'],
    ] as const;
    for (const [file, type, cache] of cases) {
      const res = await fetch(`${http.url}/dash/${roomId}/${file}`);
      assert.equal(res.status, 200, file);
      assert.equal(res.headers.get('content-type')?.split(';')[0], type, file);
      assert.equal(res.headers.get('cache-control'), cache, file);
      assert.equal(res.headers.get('access-control-allow-origin'), '*', file);
      assert.equal(res.headers.get('cross-origin-resource-policy'), 'cross-origin', file);
      await res.arrayBuffer();
    }
    const segment = await fetch(`${http.url}/dash/${roomId}/chunk-stream0-abc-00001.m4s`, {
      headers: { Range: 'bytes=0-99', Origin: 'https://player.example' },
    });
    assert.equal(segment.status, 206);
    assert.equal((await segment.arrayBuffer()).byteLength, 100);
  });

  test('answers a cross-origin preflight for Range', async () => {
    const res = await fetch(`${http.url}/dash/${roomId}/chunk-stream0-abc-00001.m4s`, {
      method: 'OPTIONS',
      headers: {
        Origin: 'https://player.example',
        'Access-Control-Request-Method': 'GET',
        'Access-Control-Request-Headers': 'range',
      },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.match(res.headers.get('access-control-allow-headers') ?? '', /Range/i);
  });

  test('missing files, segments still being written, other extensions and directories are 404 JSON', async () => {
    for (const p of [
      `/dash/${roomId}/chunk-stream0-abc-00009.m4s`,
      `/dash/${roomId}/chunk-stream0-abc-00002.m4s.tmp`,
      `/dash/${roomId}/.hidden.m4s`,
      `/dash/no-such-room/manifest.mpd`,
      `/dash/${roomId}/`,
      `/dash/${roomId}`,
      `/dash/`,
      `/dash/${roomId}/manifest.txt`,
    ]) {
      const res = await rawGet(http.url, p);
      assert.equal(res.status, 404, p);
      assert.match(String(res.headers['content-type']), /^application\/json/, p);
      assert.equal(JSON.parse(res.body).error.code, ErrorCode.NotFound, p);
      assert.doesNotMatch(res.body, /manifest\.mpd|chunk-stream/, `${p}: no listing`);
    }
  });

  test('refuses every path out of the room directory', async () => {
    for (const p of [
      `/dash/${roomId}/../../theia.json`,
      `/dash/${roomId}/..%2f..%2ftheia.json`,
      `/dash/${roomId}/%2e%2e%2f%2e%2e%2ftheia.json`,
      `/dash/..%2f/theia.json`,
      `/dash/%2e%2e/theia.json`,
      `/dash/${roomId}/..%5c..%5ctheia.json`,
      `/dash/..%2f..%2f/theia.json`,
      `/dash/${roomId}%2f..%2f..%2ftheia.json`,
      `/dash/${roomId}/%2fetc%2fpasswd`,
      `/dash/.%2e/stray.mpd`,
      `/dash/${roomId}/..%00.mpd`,
    ]) {
      const res = await rawGet(http.url, p);
      assert.ok(res.status === 404 || res.status === 400, `${p}: ${res.status}`);
      assert.doesNotMatch(res.body, /secret|outside any room|root:/, p);
    }
  });

  test('/api/time answers the xs:dateTime ffmpeg’s UTCTiming (http-xsdate) asks for, uncached', async () => {
    const before = Date.now();
    const res = await fetch(`${http.url}/api/time`);
    const text = await res.text();
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.match(text, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const t = Date.parse(text);
    assert.ok(t >= before - 1 && t <= Date.now() + 1, `${text} is now`);
  });
});

describe('RTMP destinations and the WebRTC viewer limit', () => {
  let theia: Theia;
  let http: { url: string };

  before(async () => {
    theia = await startTheia({
      env: { DASH_EGRESS: 'on', EGRESS_RTP_PORTS: '42100-42199', MAX_WEBRTC_VIEWERS: '1' },
    });
    http = { url: theia.url };
  });
  after(() => theia?.close());

  async function call(
    p: string,
    init: { method?: string; token?: string; body?: unknown } = {},
  ): Promise<{ status: number; body: any }> {
    const res = await fetch(http.url + p, {
      method: init.method ?? 'GET',
      headers: {
        ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    return { status: res.status, body: await res.json() };
  }

  test('the owner sets destinations; the stream key is never sent back, and others see nothing', async () => {
    const owner = await theia.signUp();
    const other = await theia.signUp();
    const route = `/api/rooms/${owner.roomId}/destinations`;
    assert.deepEqual((await call(route, { token: owner.token })).body, { destinations: [], max: 3 });

    const put = await call(route, {
      method: 'PUT',
      token: owner.token,
      body: {
        destinations: [
          { url: 'rtmp://a.rtmp.youtube.com/live2', key: 'abcd-efgh-ijkl-mnop' },
          { url: 'rtmps://live.example.org:443/app/', key: 'secret-key-2?token=x' },
        ],
      },
    });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    const [first, second] = put.body.destinations;
    assert.deepEqual(
      { url: first.url, keyHint: first.keyHint },
      { url: 'rtmp://a.rtmp.youtube.com/live2', keyHint: '…mnop' },
    );
    assert.equal(second.url, 'rtmps://live.example.org:443/app');
    const got = await call(route, { token: owner.token });
    assert.deepEqual(got.body, put.body);
    assert.doesNotMatch(JSON.stringify(got.body), /abcd-efgh|secret-key/);
    assert.doesNotMatch(JSON.stringify((await theia.api(`/api/rooms/${owner.roomId}`)).body), /rtmp/);

    // an entry naming a stored destination keeps its key when none is sent
    const kept = await call(route, {
      method: 'PUT',
      token: owner.token,
      body: { destinations: [{ id: first.id, url: 'rtmp://b.rtmp.youtube.com/live2' }] },
    });
    assert.equal(kept.status, 200);
    assert.deepEqual(kept.body.destinations, [
      { id: first.id, url: 'rtmp://b.rtmp.youtube.com/live2', keyHint: '…mnop' },
    ]);
    assert.equal(theia.app.store.roomById(owner.roomId)?.rtmpDestinations?.[0]?.key, 'abcd-efgh-ijkl-mnop');

    assert.equal((await call(route, { token: other.token })).status, 403);
    assert.equal(
      (await call(route, { method: 'PUT', token: other.token, body: { destinations: [] } })).status,
      403,
    );
    assert.equal((await call(route)).status, 401);
    assert.equal((await call('/api/rooms/nope/destinations', { token: owner.token })).status, 404);
  });

  test('refuses other schemes, missing keys, more than 3 destinations and duplicates', async () => {
    const owner = await theia.signUp();
    const route = `/api/rooms/${owner.roomId}/destinations`;
    const bad = [
      [{ url: 'http://cdn.example/live', key: 'k' }],
      [{ url: 'rtmp://cdn.example', key: 'k' }],
      [{ url: 'rtmp://user:pw@cdn.example/live', key: 'k' }],
      [{ url: 'rtmp://cdn.example/live' }],
      [{ url: 'rtmp://cdn.example/live', key: 'has space' }],
      [1, 2, 3, 4].map((i) => ({ url: 'rtmp://cdn.example/live', key: `key${i}` })),
      [1, 1].map((i) => ({ url: 'rtmp://cdn.example/live', key: `key${i}` })),
      [{ url: 'rtmp://cdn.example/live', key: 'k', extra: true }],
    ];
    for (const destinations of bad) {
      const res = await call(route, { method: 'PUT', token: owner.token, body: { destinations } });
      assert.equal(res.status, 400, JSON.stringify(destinations));
      assert.equal(res.body.error.code, ErrorCode.InvalidParams);
    }
    assert.deepEqual(theia.app.store.roomById(owner.roomId)?.rtmpDestinations ?? [], []);
  });

  test('a live pushes to the room’s destinations and tells only the host their state, key redacted', async () => {
    const host = await theia.signUp();
    await call(`/api/rooms/${host.roomId}/destinations`, {
      method: 'PUT',
      token: host.token,
      body: { destinations: [{ url: 'rtmp://127.0.0.1:9/live', key: 'top-secret-key' }] },
    });
    const hostWs = await theia.connect(host.token);
    await hostWs.request('joinRoom', { roomId: host.roomId });
    const viewer = await theia.connect();
    await viewer.request('joinRoom', { roomId: host.roomId });
    await hostWs.request('startLive');
    const status = await hostWs.next('egressStatus', (s) => s.destinations.length === 1);
    assert.equal(status.roomId, host.roomId);
    assert.equal(status.destinations[0]!.url, 'rtmp://127.0.0.1:9/live/***');
    assert.ok(['connecting', 'retrying'].includes(status.destinations[0]!.state));
    // a second host window learns the state on joining
    const hostWs2 = await theia.connect(host.token);
    await hostWs2.request('joinRoom', { roomId: host.roomId });
    const late = await hostWs2.next('egressStatus');
    assert.equal(late.destinations[0]!.id, status.destinations[0]!.id);
    assert.doesNotMatch(JSON.stringify([...hostWs.all('egressStatus'), late]), /top-secret-key/);
    assert.deepEqual(viewer.all('egressStatus'), []);
    await hostWs.request('stopLive');
    await hostWs.next('liveEnded'); // which ends the egress too: no egressStatus after it
  });

  test('refuses WebRTC viewers beyond MAX_WEBRTC_VIEWERS with WebRtcViewerLimit, and frees the seat', async () => {
    const host = await theia.signUp();
    const hostWs = await theia.connect(host.token);
    await hostWs.request('joinRoom', { roomId: host.roomId });
    await hostWs.request('startLive');
    await hostWs.request('publishVideo', { sdpOffer: chromeOffer });
    const first = await theia.connect();
    const second = await theia.connect();
    await first.request('joinRoom', { roomId: host.roomId });
    await second.request('joinRoom', { roomId: host.roomId });
    await first.request('receiveVideo', { sdpOffer: chromeRecvOnlyOffer });
    // the same viewer negotiating again keeps its seat
    await first.request('receiveVideo', { sdpOffer: chromeRecvOnlyOffer });
    await assert.rejects(
      second.request('receiveVideo', { sdpOffer: chromeRecvOnlyOffer }),
      (err: unknown) => err instanceof RpcError && err.code === (ErrorCode.WebRtcViewerLimit as number),
    );
    await first.request('stopReceiving', { endpoint: 'receive' });
    await second.request('receiveVideo', { sdpOffer: chromeRecvOnlyOffer });
    await first.close();
    await hostWs.request('stopLive');
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode } from '../../src/protocol/index.js';
import { startTheia, type Theia } from '../support/theia.js';

describe('REST API', () => {
  let theia: Theia;
  before(async () => (theia = await startTheia()));
  after(() => theia.close());

  test('sign up, log in, who am I, log out', async () => {
    const signUp = await theia.api('/api/users', { body: { name: 'Zoë_1', password: 'password123' } });
    assert.equal(signUp.status, 201);
    assert.equal(signUp.body.user.name, 'Zoë_1');
    assert.ok(signUp.body.token);
    assert.ok(signUp.body.expiresAt > Date.now());
    assert.equal(JSON.stringify(signUp.body).includes('password'), false);

    const login = await theia.api('/api/login', { body: { name: 'zoë_1', password: 'password123' } });
    assert.equal(login.status, 200);
    assert.equal(login.body.user.id, signUp.body.user.id);
    const me = await theia.api('/api/me', { token: login.body.token });
    assert.equal(me.status, 200);
    assert.equal(me.body.user.name, 'Zoë_1');
    assert.ok(me.body.roomId);
    assert.ok(me.body.rtmpToken);

    assert.equal((await theia.api('/api/logout', { method: 'POST', token: login.body.token })).status, 204);
    const after = await theia.api('/api/me', { token: login.body.token });
    assert.equal(after.status, 401);
    assert.equal(after.body.error.code, ErrorCode.Unauthenticated);
    // the sign-up token is a separate session and still works
    assert.equal((await theia.api('/api/me', { token: signUp.body.token })).status, 200);
  });

  test('sign-up rules: name shape, password length, unique names', async () => {
    for (const body of [
      { name: 'ab', password: 'password123' },
      { name: 'has space', password: 'password123' },
      { name: 'okname', password: 'short' },
      { name: 'okname' },
      'not an object',
    ]) {
      const res = await theia.api('/api/users', { body });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.error.code, ErrorCode.InvalidParams);
    }
    assert.equal(
      (await theia.api('/api/users', { body: { name: 'Taken', password: 'password123' } })).status,
      201,
    );
    const dup = await theia.api('/api/users', { body: { name: 'taken', password: 'password123' } });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.error.code, ErrorCode.Conflict);
  });

  test('look-alike names: width and case are the same name; mixed scripts are refused, naming the field', async () => {
    const first = await theia.api('/api/users', { body: { name: 'Looka', password: 'password123' } });
    assert.equal(first.status, 201);
    for (const name of ['ｌｏｏｋａ', 'LOOKA', 'ＬｏｏｋＡ']) {
      const dup = await theia.api('/api/users', { body: { name, password: 'password123' } });
      assert.equal(dup.status, 409, name);
      assert.equal(dup.body.error.code, ErrorCode.Conflict);
    }
    const wide = await theia.api('/api/login', { body: { name: 'ｌｏｏｋａ', password: 'password123' } });
    assert.equal(wide.status, 200);
    assert.equal(wide.body.user.name, 'Looka');

    const mixed = await theia.api('/api/users', { body: { name: 'Lооka', password: 'password123' } }); // Cyrillic о
    assert.equal(mixed.status, 400);
    assert.equal(mixed.body.error.code, ErrorCode.InvalidParams);
    assert.match(
      mixed.body.error.message,
      /name: must be written in one script, but mixes Latin and Cyrillic/,
    );

    const city = await theia.api('/api/users', { body: { name: 'İstanbul', password: 'password123' } });
    assert.equal(city.status, 201);
    assert.equal(
      (await theia.api('/api/users', { body: { name: 'istanbul', password: 'password123' } })).status,
      409,
    );
  });

  test('names in one script are welcome, CJK combinations too, and are stored in NFKC', async () => {
    for (const name of ['张伟明', '山田たろう', 'ヤマダ太郎', '김민준', 'Αλέξανδρος', 'Дмитрий']) {
      const res = await theia.api('/api/users', { body: { name, password: 'password123' } });
      assert.equal(res.status, 201, `${name}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.user.name, name);
    }
    const wide = await theia.api('/api/users', { body: { name: 'ｗｉｄｅ＿１', password: 'password123' } });
    assert.equal(wide.status, 201);
    assert.equal(wide.body.user.name, 'wide_1');
  });

  test('wrong passwords and unknown names get the same 401', async () => {
    await theia.signUp('carol');
    const wrong = await theia.api('/api/login', { body: { name: 'carol', password: 'nope-nope' } });
    const unknown = await theia.api('/api/login', { body: { name: 'nobody', password: 'nope-nope' } });
    assert.equal(wrong.status, 401);
    assert.deepEqual(wrong.body, unknown.body);
  });

  test('malformed bodies and unknown routes get JSON errors', async () => {
    const bad = await theia.api('/api/login', { raw: '{"name":' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, ErrorCode.ParseError);
    const big = await theia.api('/api/login', {
      raw: JSON.stringify({ name: 'x'.repeat(20_000), password: 'y' }),
    });
    assert.equal(big.status, 413);
    const missing = await theia.api('/api/nothing');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, ErrorCode.NotFound);
    const noRoom = await theia.api('/api/rooms/nope');
    assert.equal(noRoom.status, 404);
  });

  test('rooms: listed with host and state; only the owner renames', async () => {
    const owner = await theia.signUp('dave');
    const other = await theia.signUp('erin');
    const list = await theia.api('/api/rooms');
    const room = list.body.rooms.find((r: { id: string }) => r.id === owner.roomId);
    assert.deepEqual(room, {
      id: owner.roomId,
      title: "dave's room",
      host: owner.user,
      live: false,
      liveId: null,
      viewers: 0,
      coHosting: false,
      stage: [],
      layout: 'pip',
      faceDetection: false,
      mpdUrl: null,
      hlsUrl: null,
    });
    const info = await theia.api(`/api/rooms/${owner.roomId}`);
    assert.equal(info.body.webrtc, true);
    assert.deepEqual(info.body.iceServers, []);

    const path = `/api/rooms/${owner.roomId}`;
    assert.equal((await theia.api(path, { method: 'PATCH', body: { title: 'x' } })).status, 401);
    assert.equal(
      (await theia.api(path, { method: 'PATCH', body: { title: 'x' }, token: other.token })).status,
      403,
    );
    assert.equal(
      (await theia.api(path, { method: 'PATCH', body: { title: '' }, token: owner.token })).status,
      400,
    );
    assert.equal(
      (await theia.api(path, { method: 'PATCH', body: { owner: 'me' }, token: owner.token })).status,
      400,
    );
    // people in the room learn the new title from the room, not from the store behind its back
    const member = await theia.connect();
    await member.request('joinRoom', { roomId: owner.roomId });
    const renamed = await theia.api(path, {
      method: 'PATCH',
      body: { title: '  Dave live  ' },
      token: owner.token,
    });
    assert.equal(renamed.status, 200);
    assert.equal(renamed.body.room.title, 'Dave live');
    assert.equal((await member.next('roomUpdated')).room.title, 'Dave live');
  });

  test('GET /api/config tells browsers the ICE servers and the codec to publish with', async () => {
    const res = await theia.api('/api/config');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { iceServers: [], publishVideoCodec: 'h264' });
  });

  test('the face-overlay image is served for KMS to fetch', async () => {
    const res = await fetch(theia.url + '/media/face-overlay.png');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/png');
    const png = Buffer.from(await res.arrayBuffer());
    assert.deepEqual([...png.subarray(1, 4)], [...Buffer.from('PNG')]);
  });

  test('the web client is served, with client-side routes falling back to index.html', async (t) => {
    const index = await fetch(theia.url + '/');
    if (index.status === 404) return t.skip('dist/web is not built (npm run build:web)');
    assert.match(await index.text(), /<html/i);
    const deep = await fetch(theia.url + '/room/abc');
    assert.equal(deep.status, 200);
    assert.match(await deep.text(), /<html/i);
  });
});

describe('login rate limiting', () => {
  let theia: Theia;
  before(async () => (theia = await startTheia({ env: { LOGIN_RATE_LIMIT: '3' } })));
  after(() => theia.close());

  test('too many attempts from one address get 429 with a JSON error', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) {
      codes.push((await theia.api('/api/login', { body: { name: 'nobody', password: 'whatever1' } })).status);
    }
    assert.deepEqual(codes, [401, 401, 401, 429]);
    const limited = await theia.api('/api/login', { body: { name: 'nobody', password: 'whatever1' } });
    assert.equal(limited.body.error.code, ErrorCode.RateLimited);
  });
});

/** POST /api/login, optionally claiming to come from `forwardedFor` through a proxy. */
async function login(
  theia: Theia,
  name: string,
  password: string,
  forwardedFor?: string,
): Promise<{ status: number; retryAfter: string | null; body: any }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (forwardedFor) headers['x-forwarded-for'] = forwardedFor;
  const res = await fetch(theia.url + '/api/login', {
    method: 'POST',
    headers,
    body: JSON.stringify({ name, password }),
  });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.json() };
}

describe('login rate limiting with TRUST_PROXY off (the default)', () => {
  let theia: Theia;
  before(async () => (theia = await startTheia({ env: { LOGIN_RATE_LIMIT: '3' } })));
  after(() => theia.close());

  test('a client cannot escape the per-address limit by sending its own X-Forwarded-For', async () => {
    const codes: number[] = [];
    for (let i = 1; i <= 4; i++)
      codes.push((await login(theia, 'nobody', 'whatever1', `203.0.113.${i}`)).status);
    assert.deepEqual(codes, [401, 401, 401, 429]);
    const limited = await login(theia, 'nobody', 'whatever1', '198.51.100.7');
    assert.equal(limited.status, 429);
    assert.equal(limited.body.error.code, ErrorCode.RateLimited);
    assert.ok(Number(limited.retryAfter) > 0, 'Retry-After');
  });
});

describe('login delays per account (TRUST_PROXY=loopback, so tests can play many addresses)', () => {
  const DELAY_MS = 250;
  let theia: Theia;
  before(
    async () =>
      (theia = await startTheia({
        env: {
          TRUST_PROXY: 'loopback',
          LOGIN_RATE_LIMIT: '1000',
          LOGIN_FREE_FAILURES: '2',
          LOGIN_DELAY_MS: String(DELAY_MS),
        },
      })),
  );
  after(() => theia.close());

  test('failures from many addresses delay that name: 429 with Retry-After, then the right password works', async () => {
    await theia.signUp('victim');
    const wrong: number[] = [];
    for (let i = 1; i <= 3; i++)
      wrong.push((await login(theia, 'victim', 'guess-' + i, `203.0.113.${i}`)).status);
    assert.deepEqual(wrong, [401, 401, 401], 'two free failures, the third starts a delay');

    for (const [name, from] of [
      ['victim', '203.0.113.50'],
      ['VICTIM', '198.51.100.1'],
      ['ｖｉｃｔｉｍ', '192.0.2.1'],
    ] as const) {
      const delayed = await login(theia, name, 'password123', from);
      assert.equal(delayed.status, 429, `${name} from ${from}`);
      assert.equal(delayed.body.error.code, ErrorCode.RateLimited);
      assert.equal(delayed.retryAfter, '1', 'whole seconds, rounded up');
    }
    // other names are not affected
    assert.equal((await login(theia, 'someone-else', 'guess-1', '203.0.113.1')).status, 401);

    await sleep(DELAY_MS); // the delay under test; refused attempts above did not extend it
    const ok = await login(theia, 'victim', 'password123', '203.0.113.99');
    assert.equal(ok.status, 200);
    assert.equal(ok.body.user.name, 'victim');

    // success reset the count: the free failures are free again
    const again: number[] = [];
    for (let i = 1; i <= 2; i++)
      again.push((await login(theia, 'victim', 'guess-' + i, `203.0.113.${i}`)).status);
    assert.deepEqual(again, [401, 401]);
    assert.equal((await login(theia, 'victim', 'password123', '203.0.113.7')).status, 200);
  });

  test('with TRUST_PROXY=loopback the per-address limit follows X-Forwarded-For', async () => {
    const limited = await startTheia({ env: { TRUST_PROXY: 'loopback', LOGIN_RATE_LIMIT: '2' } });
    try {
      const codes: number[] = [];
      for (const from of ['203.0.113.1', '203.0.113.1', '203.0.113.1', '203.0.113.2']) {
        codes.push((await login(limited, 'nobody', 'whatever1', from)).status);
      }
      assert.deepEqual(codes, [401, 401, 429, 401]);
    } finally {
      await limited.close();
    }
  });
});

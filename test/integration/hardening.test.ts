/**
 * What one client can do to the server, and what it cannot: malformed HTTP and upgrade requests,
 * WebSocket hijacking from other sites, a login that outlives its logout or expiry, and a socket
 * that stops reading while it floods the server with costly requests (issue 6).
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import net from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import { after, before, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { tokenHash } from '../../src/auth/AuthService.js';
import { CloseCode, ErrorCode, Limits } from '../../src/protocol/index.js';
import { RpcError } from '../support/RpcClient.js';
import { chromeRecvOnlyOffer } from '../support/sdp.js';
import { NEEDS_FAKE, startTheia, type Theia } from '../support/theia.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const PARTNER = 'https://partner.example';
/** Unread bytes the flood test lets one socket queue before the server closes it. */
const MAX_BUFFERED = 256 * 1024;

/**
 * Sends `request` as raw bytes and resolves with what the server answered before it closed the
 * connection (or its first 4 KiB); '' when it closed without a word.
 */
function rawHttp(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let answer = '';
    socket.setEncoding('latin1');
    socket.setTimeout(5000, () => {
      socket.destroy();
      reject(new Error(`no answer to ${JSON.stringify(request.slice(0, 80))}`));
    });
    socket.on('data', (chunk: string) => {
      answer += chunk;
      // a 101 keeps the socket open for WebSocket frames: the status line is all we need
      if (answer.includes('\r\n\r\n')) socket.end();
    });
    socket.on('error', () => undefined); // a reset after the answer is fine
    socket.on('close', () => resolve(answer.slice(0, 4096)));
    socket.write(request, 'latin1');
  });
}

/** A masked client text frame (RFC 6455 §5.2), as a browser would send it. */
function clientFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = randomBytes(4);
  const header =
    payload.length < 126
      ? Buffer.from([0x81, 0x80 | payload.length])
      : Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 0xff]);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  return Buffer.concat([header, mask, masked]);
}

/** The status code of the first close frame among server frames (unmasked, RFC 6455 §5.2), if any. */
function closeCodeIn(stream: Buffer): number | undefined {
  let at = 0;
  while (at + 2 <= stream.length) {
    const opcode = stream[at]! & 0x0f;
    let length = stream[at + 1]! & 0x7f;
    let start = at + 2;
    if (length === 126) {
      length = stream.readUInt16BE(at + 2);
      start += 2;
    } else if (length === 127) {
      length = Number(stream.readBigUInt64BE(at + 2));
      start += 8;
    }
    if (opcode === 0x8) return length >= 2 ? stream.readUInt16BE(start) : 1005;
    at = start + length;
  }
  return undefined;
}

/** A small deterministic PRNG (mulberry32), so a failing fuzz case can be replayed. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('hardening', () => {
  let theia: Theia;
  let port: number;

  before(async () => {
    theia = await startTheia({
      env: { ALLOWED_ORIGINS: PARTNER },
      signalling: { maxBufferedBytes: MAX_BUFFERED },
    });
    port = Number(new URL(theia.url).port);
  });
  after(() => theia.close());

  test('the request lines that crashed the server get a 4xx and the server stays up', async () => {
    for (const target of ['//', '/\\', '//[', '//:99999']) {
      for (const upgrade of ['h2c', 'websocket']) {
        const answer = await rawHttp(
          port,
          `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: ${upgrade}\r\n\r\n`,
        );
        assert.match(answer, /^HTTP\/1\.1 4\d\d /, `${target} with Upgrade: ${upgrade}`);
      }
    }
    assert.equal((await theia.api('/api/rooms')).status, 200);
  });

  test('fuzzed request lines and headers, upgrade and plain: every one answered or closed, none kills the server', async () => {
    const random = prng(6);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const methods = ['GET', 'POST', 'OPTIONS', 'DELETE', 'CONNECT', 'G\u00e9T', ''];
    const targets = [
      '/ws',
      '/ws?x=1',
      '//',
      '/\\',
      '//[',
      '//:99999',
      '*',
      'http://x/ws',
      'http://[/ws',
      '/%',
      '/%00',
      '/api/rooms/%ff',
      '/api/rooms/..%2f..%2f',
      '/ws#frag',
      '/\u00e9',
      '/' + 'a'.repeat(9000),
      '',
      '/api/users',
      '/api/login',
      '/api/me',
      '/dash/../../etc/passwd',
    ];
    const headerSets = [
      'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
      'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 99\r\nSec-WebSocket-Key: x',
      'Connection: Upgrade\r\nUpgrade: h2c',
      'Connection: Upgrade\r\nUpgrade: \u00ff\u00fe',
      'Connection: Upgrade, keep-alive\r\nUpgrade: websocket',
      'Origin: null\r\nConnection: Upgrade\r\nUpgrade: websocket',
      'Origin: http://[\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
      'Authorization: Bearer\r\nConnection: Upgrade\r\nUpgrade: websocket',
      'Authorization: Bearer \u00e9\u00e9\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
      'Content-Type: application/json\r\nContent-Length: 5\r\n\r\n{"a":',
      'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
      'Content-Length: -1',
      'X: ' + 'y'.repeat(20000),
      '',
    ];
    for (let i = 0; i < 150; i++) {
      const request = `${pick(methods)} ${pick(targets)} HTTP/1.1\r\nHost: ${pick(['x', '', '[::1', 'a:b:c'])}\r\n${pick(headerSets)}\r\n\r\n`;
      const answer = await rawHttp(port, request);
      if (answer !== '')
        assert.match(answer, /^HTTP\/1\.1 \d{3} /, `case ${i}: ${JSON.stringify(request.slice(0, 120))}`);
    }
    assert.equal((await theia.api('/api/rooms')).status, 200);
  });

  test('WebSocket Origin: other sites are refused with 403; the app itself, configured origins and non-browsers are let in', async () => {
    const open = (origin?: string): Promise<number> =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(theia.wsUrl, origin === undefined ? {} : { origin });
        ws.on('open', () => {
          ws.close();
          resolve(101);
        });
        ws.on('unexpected-response', (_req, res) => {
          resolve(res.statusCode ?? 0);
          ws.terminate();
        });
        ws.on('error', reject);
      });
    assert.equal(await open('http://evil.example'), 403);
    assert.equal(await open('null'), 403);
    assert.equal(await open(theia.url), 101);
    assert.equal(await open(PARTNER), 101);
    assert.equal(await open(undefined), 101);
  });

  test('logout reaches open sockets: sessionEnded, the host live ends, login-only calls get 4001', async () => {
    const host = await theia.signUp();
    const hostWs = await theia.connect(host.token);
    await hostWs.request('joinRoom', { roomId: host.roomId });
    const { liveId } = await hostWs.request<{ liveId: string }>('startLive');
    const viewer = await theia.connect();
    await viewer.request('joinRoom', { roomId: host.roomId });

    const ended = hostWs.next('sessionEnded');
    const liveEnded = viewer.next('liveEnded');
    assert.equal((await theia.api('/api/logout', { method: 'POST', token: host.token })).status, 204);
    assert.deepEqual(await ended, { reason: 'loggedOut' });
    assert.deepEqual(await liveEnded, { roomId: host.roomId, liveId, reason: 'hostLeft' });

    for (const [method, params] of [
      ['sendMessage', { text: 'still me?' }],
      ['startLive', {}],
    ] as const) {
      await assert.rejects(hostWs.request(method, params), (e: RpcError) => {
        // sendMessage/startLive need a login first; after it ended the socket is in no room either
        assert.ok(
          [ErrorCode.Unauthenticated, ErrorCode.InvalidState].includes(e.code),
          `${method}: ${e.code}`,
        );
        return true;
      });
    }
    // the socket stays usable as a visitor's
    const joined = await hostWs.request<{ role: string }>('joinRoom', { roomId: host.roomId });
    assert.equal(joined.role, 'viewer');
    await assert.rejects(
      hostWs.request('sendMessage', { text: 'hi' }),
      (e: RpcError) => e.code === ErrorCode.Unauthenticated,
    );
  });

  test('an expired login ends on the next call that needs it', async () => {
    const user = await theia.signUp();
    const ws = await theia.connect(user.token);
    await ws.request('joinRoom', { roomId: user.roomId });
    await ws.request('sendMessage', { text: 'before expiry' });
    const session = theia.app.store.sessionByTokenHash(tokenHash(user.token));
    assert.ok(session);
    session.expiresAt = Date.now() - 1;
    const ended = ws.next('sessionEnded');
    await assert.rejects(
      ws.request('sendMessage', { text: 'after expiry' }),
      (e: RpcError) => e.code === ErrorCode.Unauthenticated,
    );
    assert.deepEqual(await ended, { reason: 'expired' });
    assert.equal((await theia.api('/api/me', { token: user.token })).status, 401);
  });

  test(`costly requests are limited to ${Limits.costlyPer10s} per 10 s per socket`, async () => {
    const user = await theia.signUp();
    const ws = await theia.connect();
    for (let i = 0; i < Limits.costlyPer10s; i++) await ws.request('joinRoom', { roomId: user.roomId });
    await assert.rejects(ws.request('joinRoom', { roomId: user.roomId }), (e: RpcError) => {
      assert.equal(e.code, ErrorCode.RateLimited);
      assert.match(e.message, /joinRoom/);
      return true;
    });
    // cheap requests still go through
    await ws.request('leaveRoom');
  });

  test(
    `at most ${Limits.maxInFlight} requests of one socket wait for an answer at once`,
    { skip: NEEDS_FAKE },
    async () => {
      const { viewer } = await theia.goLive();
      theia.fake!.delay(300, { operation: 'processOffer' });
      try {
        const burst = 20;
        const results = await Promise.allSettled(
          Array.from({ length: burst }, () =>
            viewer.request('receiveVideo', { sdpOffer: chromeRecvOnlyOffer }),
          ),
        );
        const refused = results.filter(
          (r) => r.status === 'rejected' && (r.reason as RpcError).code === ErrorCode.RateLimited,
        );
        // the goLive() viewer has nothing in flight any more: exactly the surplus is refused
        assert.equal(refused.length, burst - Limits.maxInFlight);
      } finally {
        theia.fake!.delay(0);
      }
    },
  );

  test('a socket that stops reading and floods joinRoom is closed; server memory stays bounded; others are served', async () => {
    const owner = await theia.signUp();
    // ~70 KB of chat history, replayed to every joinRoom
    for (let i = 0; i < Limits.chatReplay; i++) {
      await theia.app.store.addMessage({
        id: randomUUID(),
        roomId: owner.roomId,
        userId: owner.user.id,
        userName: owner.user.name,
        text: 'x'.repeat(Limits.maxChatChars + 200),
        sentAt: Date.now(),
      });
    }
    const other = await theia.connect();
    await other.request('joinRoom', { roomId: owner.roomId });

    gc();
    const baseline = process.memoryUsage();
    let peak = 0;
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      peak = Math.max(peak, m.heapUsed + m.arrayBuffers - baseline.heapUsed - baseline.arrayBuffers);
    }, 10);

    const attacker = net.connect(port, '127.0.0.1');
    attacker.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => attacker.on('close', () => resolve()));
    let handshake = '';
    await new Promise<void>((resolve) => {
      attacker.on('data', function onData(chunk: Buffer) {
        handshake += chunk.toString('latin1');
        if (!handshake.includes('\r\n\r\n')) return;
        attacker.off('data', onData);
        attacker.pause(); // from here on the attacker reads nothing
        resolve();
      });
      attacker.write(
        `GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
          `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n\r\n`,
      );
    });
    assert.match(handshake, /^HTTP\/1\.1 101 /);
    const frames = Buffer.concat(
      Array.from({ length: 2000 }, (_, i) =>
        clientFrame(
          JSON.stringify({ jsonrpc: '2.0', id: i, method: 'joinRoom', params: { roomId: owner.roomId } }),
        ),
      ),
    );
    await new Promise<void>((resolve, reject) =>
      attacker.write(frames, (err) => (err ? reject(err) : resolve())),
    );

    // meanwhile another client is answered as usual
    for (let i = 0; i < 5; i++) await other.request('joinRoom', { roomId: owner.roomId });

    // the attacker gets what was queued before the server gave up on it, then the close
    const received: Buffer[] = [];
    attacker.on('data', (chunk: Buffer) => received.push(chunk));
    attacker.resume();
    await closed;
    clearInterval(sampler);
    const stream = Buffer.concat(received);
    assert.equal(closeCodeIn(stream), CloseCode.PolicyViolation);
    assert.ok(stream.length < 8 * 1024 * 1024, `the attacker could read ${stream.length} bytes`);
    assert.ok(peak < 48 * 1024 * 1024, `server memory grew by ${Math.round(peak / 1048576)} MiB`);
    await other.request('leaveRoom');
  });
});

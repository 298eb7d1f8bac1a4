import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ErrorCode, Limits } from '../../src/protocol/index.js';
import { RpcClient } from '../support/RpcClient.js';
import { startTheia, type Theia } from '../support/theia.js';

describe('signalling: bad input gets a JSON-RPC error and the socket stays usable', () => {
  let theia: Theia;
  let user: Awaited<ReturnType<Theia['signUp']>>;
  before(async () => {
    theia = await startTheia();
    user = await theia.signUp();
  });
  after(() => theia.close());

  const cases: Array<[string, string | Buffer, ErrorCode, boolean?]> = [
    ['malformed JSON', '{"jsonrpc": "2.0", "method": ', ErrorCode.ParseError],
    ['not an object', '42', ErrorCode.InvalidRequest],
    ['no jsonrpc version', '{"method": "leaveRoom", "id": 1}', ErrorCode.InvalidRequest],
    ['a batch', '[{"jsonrpc": "2.0", "method": "leaveRoom", "id": 1}]', ErrorCode.InvalidRequest],
    [
      'a binary frame',
      Buffer.from('{"jsonrpc":"2.0","method":"leaveRoom","id":1}'),
      ErrorCode.InvalidRequest,
      true,
    ],
    [
      'an oversized frame',
      JSON.stringify({
        jsonrpc: '2.0',
        method: 'sendMessage',
        id: 9,
        params: { text: 'x'.repeat(Limits.maxMessageBytes) },
      }),
      ErrorCode.MessageTooLarge,
    ],
  ];
  for (const [what, frame, code, binary] of cases) {
    test(`${what} → error ${code}`, async () => {
      const ws = await theia.connect(user.token);
      const answer = await ws.sendRaw(frame, binary);
      assert.equal(answer.error?.code, code);
      assert.ok(answer.error?.message);
      // still usable
      assert.equal((await ws.request<{ role: string }>('joinRoom', { roomId: user.roomId })).role, 'host');
    });
  }

  test('unknown method → -32601, wrong params → -32602 naming the field', async () => {
    const ws = await theia.connect();
    await assert.rejects(ws.request('dance'), (e: { code: number }) => e.code === ErrorCode.MethodNotFound);
    await assert.rejects(
      ws.request('__proto__'),
      (e: { code: number }) => e.code === ErrorCode.MethodNotFound,
    );
    await assert.rejects(ws.request('joinRoom', { roomId: 42 }), (e: { code: number; message: string }) => {
      assert.equal(e.code, ErrorCode.InvalidParams);
      assert.match(e.message, /roomId/);
      return true;
    });
    await assert.rejects(ws.request('joinRoom'), (e: { code: number }) => e.code === ErrorCode.InvalidParams);
    await assert.rejects(
      ws.request('publishVideo', { sdpOffer: '' }),
      (e: { code: number }) => e.code === ErrorCode.InvalidParams,
    );
    await assert.rejects(
      ws.request('startLive', { extra: true }),
      (e: { code: number }) => e.code === ErrorCode.InvalidParams,
    );
    await assert.rejects(
      ws.request('onIceCandidate', { endpoint: 'sideways', candidate: { candidate: '' } }),
      (e: { code: number }) => e.code === ErrorCode.InvalidParams,
    );
    await assert.rejects(
      ws.request('joinRoom', { roomId: 'no-such-room' }),
      (e: { code: number }) => e.code === ErrorCode.NotFound,
    );
    await assert.rejects(
      ws.request('startLive'),
      (e: { code: number }) => e.code === ErrorCode.Unauthenticated,
    );
    await assert.rejects(
      ws.request('authenticate', { token: 'made-up' }),
      (e: { code: number }) => e.code === ErrorCode.Unauthenticated,
    );
    await assert.rejects(
      ws.request('receiveVideo', { sdpOffer: 'v=0\r\n' }),
      (e: { code: number }) => e.code === ErrorCode.InvalidState,
    );
    assert.deepEqual(await ws.request('leaveRoom'), {});
  });

  test('a request without an id is a notification: carried out, never answered', async () => {
    const ws = await theia.connect(user.token);
    ws.socket.send(JSON.stringify({ jsonrpc: '2.0', method: 'joinRoom', params: { roomId: user.roomId } }));
    ws.socket.send(JSON.stringify({ jsonrpc: '2.0', method: 'dance' }));
    const viewer = await theia.connect();
    await viewer.request('joinRoom', { roomId: user.roomId });
    await ws.next('viewerCountChanged', (p) => p.viewers === 1); // ws is in the room
    assert.equal(ws.orphans.length, 0);
  });

  test('an invalid token on the upgrade is refused with HTTP 401', async () => {
    await assert.rejects(RpcClient.connect(theia.wsUrl, 'made-up'), /401/);
  });

  test('the server survives a storm of junk from one socket and serves others', async () => {
    const junk = await theia.connect();
    for (let i = 0; i < 200; i++)
      junk.socket.send(i % 2 ? '{' : JSON.stringify({ jsonrpc: '2.0', id: i, method: 'x' }));
    const ok = await theia.connect(user.token);
    assert.equal((await ok.request<{ role: string }>('joinRoom', { roomId: user.roomId })).role, 'host');
    assert.equal((await theia.api('/api/rooms')).status, 200);
  });
});

describe('chat', () => {
  let theia: Theia;
  before(async () => (theia = await startTheia({ rooms: { chatBurst: 3, chatWindowSec: 60 } })));
  after(() => theia.close());

  test('logged-in users chat; messages reach everyone, persist, and are replayed on join', async () => {
    const host = await theia.signUp();
    const guest = await theia.signUp();
    const hostWs = await theia.connect(host.token);
    const guestWs = await theia.connect(guest.token);
    const anonWs = await theia.connect();
    for (const ws of [hostWs, guestWs, anonWs]) await ws.request('joinRoom', { roomId: host.roomId });

    const { message } = await guestWs.request<{ message: { text: string; user: unknown } }>('sendMessage', {
      text: '  hello there  ',
    });
    assert.equal(message.text, 'hello there');
    assert.deepEqual(message.user, guest.user);
    assert.deepEqual((await hostWs.next('messageReceived')).message, message);
    assert.deepEqual((await anonWs.next('messageReceived')).message, message);
    await hostWs.request('sendMessage', { text: 'welcome' });

    await assert.rejects(
      anonWs.request('sendMessage', { text: 'hi' }),
      (e: { code: number }) => e.code === ErrorCode.Unauthenticated,
    );
    await assert.rejects(
      guestWs.request('sendMessage', { text: '   ' }),
      (e: { code: number }) => e.code === ErrorCode.InvalidParams,
    );
    await assert.rejects(
      guestWs.request('sendMessage', { text: 'x'.repeat(Limits.maxChatChars + 1) }),
      (e: { code: number }) => e.code === ErrorCode.InvalidParams,
    );
    await guestWs.request('sendMessage', { text: 'two' });
    await guestWs.request('sendMessage', { text: 'three' });
    await assert.rejects(
      guestWs.request('sendMessage', { text: 'four' }),
      (e: { code: number }) => e.code === ErrorCode.RateLimited,
    );

    const late = await theia.connect();
    const joined = await late.request<{ messages: Array<{ text: string }> }>('joinRoom', {
      roomId: host.roomId,
    });
    assert.deepEqual(
      joined.messages.map((m) => m.text),
      ['hello there', 'welcome', 'two', 'three'],
    );
  });
});

describe('heartbeat', () => {
  let theia: Theia;
  before(async () => (theia = await startTheia({ env: { WS_HEARTBEAT_MS: '100' } })));
  after(() => theia.close());

  test('a socket that stops answering pings is dropped and leaves its room, ending its live', async () => {
    const { host, hostWs, viewer, liveId } = await theia.goLive();
    // a live client answers pings by itself (the ws library, like browsers); a dead one does not
    hostWs.socket.pause();
    assert.deepEqual(await viewer.next('liveEnded', () => true, 2000), {
      roomId: host.roomId,
      liveId,
      reason: 'hostLeft',
    });
    // the viewer, which answers, is still connected and in the room
    assert.equal(
      (await viewer.request<{ role: string }>('joinRoom', { roomId: host.roomId })).role,
      'viewer',
    );
    hostWs.socket.terminate(); // paused, it would never see the server's close
  });
});

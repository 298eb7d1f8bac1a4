import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { AuthService } from '../../src/auth/AuthService.js';
import {
  ForbiddenError,
  InvalidStateError,
  MediaError,
  MediaUnavailableError,
  NotFoundError,
  RateLimitedError,
  UnauthenticatedError,
} from '../../src/errors.js';
import { createLogger } from '../../src/logger.js';
import { RoomManager } from '../../src/rooms/RoomManager.js';
import { Store, type UserRecord } from '../../src/store/Store.js';
import { MemoryMedia } from '../support/MemoryMedia.js';
import { RecordingParticipant } from '../support/participants.js';
import { tempDir } from '../support/tempDir.js';

const OFFER = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n';

describe('RoomManager', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let store: Store;
  let media: MemoryMedia;
  let rooms: RoomManager;
  let alice: UserRecord;
  let bob: UserRecord;
  let roomId: string;

  beforeEach(async () => {
    tmp = await tempDir();
    store = await Store.open(tmp.dir);
    const auth = new AuthService(store, { tokenTtlMs: 60_000 });
    alice = await auth.signUp('alice', 'password1');
    bob = await auth.signUp('bob', 'password1');
    roomId = store.rooms().find((r) => r.ownerId === alice.id)!.id;
    media = new MemoryMedia();
    // every viewer count is told at once here; the coalescing has its own test below
    rooms = new RoomManager(store, media, createLogger('test'), {
      chatBurst: 3,
      chatWindowSec: 60,
      viewerCountIntervalMs: 0,
    });
  });
  afterEach(async () => {
    await rooms.close('shutdown');
    await tmp.remove();
  });

  /** Alice joins her room and goes live; returns her participant. */
  async function aliceLive() {
    const host = new RecordingParticipant(alice);
    await rooms.join(host, roomId);
    const started = await rooms.roomOf(host).startLive(host);
    return { host, ...started };
  }

  test('joinRoom() gives the owner the host role and others the viewer role', async () => {
    const host = new RecordingParticipant(alice);
    const viewer = new RecordingParticipant(bob);
    const anon = new RecordingParticipant(undefined);
    assert.equal((await rooms.join(host, roomId)).role, 'host');
    assert.equal((await rooms.join(viewer, roomId)).role, 'viewer');
    const joined = await rooms.join(anon, roomId);
    assert.equal(joined.role, 'viewer');
    assert.equal(joined.room.viewers, 2);
    assert.deepEqual(host.received('viewerCountChanged').at(-1), { roomId, viewers: 2 });
  });

  test('viewer counts are told at most once per interval, with the latest count', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const coalescing = new RoomManager(store, media, createLogger('test'), { viewerCountIntervalMs: 1000 });
    try {
      const host = new RecordingParticipant(alice);
      await coalescing.join(host, roomId);
      const viewers = Array.from({ length: 50 }, () => new RecordingParticipant(undefined));
      for (const v of viewers) await coalescing.join(v, roomId);
      // the first join is told at once; the 49 after it wait for the interval
      assert.deepEqual(host.received('viewerCountChanged'), [{ roomId, viewers: 1 }]);
      t.mock.timers.tick(999);
      assert.equal(host.received('viewerCountChanged').length, 1);
      t.mock.timers.tick(1);
      assert.deepEqual(host.received('viewerCountChanged'), [
        { roomId, viewers: 1 },
        { roomId, viewers: 50 },
      ]);
      // a join and a leave within one interval leave the count as it was: nothing to tell
      const extra = new RecordingParticipant(undefined);
      await coalescing.join(extra, roomId);
      await coalescing.leave(extra);
      t.mock.timers.tick(1000);
      assert.equal(host.received('viewerCountChanged').length, 2);
      assert.equal(coalescing.summary(roomId).viewers, 50);
    } finally {
      await coalescing.close('shutdown');
    }
  });

  test('joinRoom() of an unknown room fails with NotFoundError', async () => {
    await assert.rejects(rooms.join(new RecordingParticipant(bob), 'nope'), NotFoundError);
  });

  test('startLive() creates a live with LiveId and LiveCode and tells everyone in the room', async () => {
    const viewer = new RecordingParticipant(bob);
    await rooms.join(viewer, roomId);
    const { liveId, liveCode } = await aliceLive();
    assert.ok(liveId && liveCode);
    assert.equal(store.liveById(liveId)?.liveCode, liveCode);
    assert.deepEqual(viewer.received('liveStarted'), [{ roomId, liveId }]);
    assert.equal(media.open.length, 1);
    assert.equal(rooms.summary(roomId).live, true);
    assert.equal(rooms.summary(roomId).liveId, liveId);
  });

  test('only the owner may start or stop a live; nobody may start one twice', async () => {
    const viewer = new RecordingParticipant(bob);
    await rooms.join(viewer, roomId);
    await assert.rejects(rooms.roomOf(viewer).startLive(viewer), ForbiddenError);
    const { host } = await aliceLive();
    await assert.rejects(rooms.roomOf(host).startLive(host), InvalidStateError);
    await assert.rejects(rooms.roomOf(viewer).stopLive(viewer), ForbiddenError);
    await assert.rejects(rooms.roomOf(viewer).publish(viewer, OFFER), ForbiddenError);
  });

  test('a second window of the owner cannot publish into the live the first one started', async () => {
    const { host } = await aliceLive();
    const secondWindow = new RecordingParticipant(alice);
    await rooms.join(secondWindow, roomId);
    await assert.rejects(rooms.roomOf(secondWindow).publish(secondWindow, OFFER), /another window/);
    assert.match(await rooms.roomOf(host).publish(host, OFFER), /^v=0/);
  });

  test('publish and receive hand SDP answers back and route media ICE candidates to the right peer', async () => {
    const { host } = await aliceLive();
    const viewer = new RecordingParticipant(bob);
    await rooms.join(viewer, roomId);
    await rooms.roomOf(host).publish(host, OFFER);
    await rooms.roomOf(viewer).receive(viewer, OFFER);
    const live = media.open[0]!;
    assert.equal(live.feeds.get(alice.id), `${host.id}:publish`);
    assert.deepEqual([...live.viewers], [`${viewer.id}:receive`]);
    live.candidateListeners.get(`${viewer.id}:receive`)!({
      candidate: 'candidate:1 1 UDP 1 127.0.0.1 9 typ host',
      sdpMLineIndex: 0,
    });
    assert.equal(viewer.received('iceCandidate')[0]?.endpoint, 'receive');
    assert.equal(host.received('iceCandidate').length, 0);
    rooms.roomOf(viewer).addIceCandidate(viewer, 'receive', { candidate: 'candidate:x', sdpMid: '0' });
    assert.equal(live.candidates.get(`${viewer.id}:receive`)?.length, 1);
  });

  test('publishVideo or receiveVideo before the live starts fail with InvalidStateError', async () => {
    const host = new RecordingParticipant(alice);
    await rooms.join(host, roomId);
    await assert.rejects(rooms.roomOf(host).publish(host, OFFER), InvalidStateError);
    await assert.rejects(rooms.roomOf(host).receive(host, OFFER), InvalidStateError);
    assert.throws(
      () => rooms.roomOf(host).addIceCandidate(host, 'publish', { candidate: 'c' }),
      InvalidStateError,
    );
  });

  test('a rejected offer surfaces as MediaError and the live goes on', async () => {
    const { host } = await aliceLive();
    media.failNextOffer = true;
    await assert.rejects(rooms.roomOf(host).publish(host, OFFER), MediaError);
    assert.match(await rooms.roomOf(host).publish(host, OFFER), /^v=0/);
  });

  test('KMS unreachable: startLive() fails with MediaUnavailableError and nothing is recorded', async () => {
    media.unavailable = true;
    const host = new RecordingParticipant(alice);
    await rooms.join(host, roomId);
    await assert.rejects(rooms.roomOf(host).startLive(host), MediaUnavailableError);
    assert.equal(rooms.summary(roomId).live, false);
  });

  test('stopLive() releases the media, records the end and tells everyone', async () => {
    const viewer = new RecordingParticipant(bob);
    await rooms.join(viewer, roomId);
    const { host, liveId } = await aliceLive();
    await rooms.roomOf(host).stopLive(host);
    assert.equal(media.open.length, 0);
    assert.equal(store.liveById(liveId)?.endReason, 'stopped');
    assert.deepEqual(viewer.received('liveEnded'), [{ roomId, liveId, reason: 'stopped' }]);
    await assert.rejects(rooms.roomOf(host).stopLive(host), InvalidStateError);
  });

  test('the host leaving ends the live; a viewer leaving releases only its connection', async () => {
    const viewer = new RecordingParticipant(bob);
    await rooms.join(viewer, roomId);
    const { host, liveId } = await aliceLive();
    await rooms.roomOf(viewer).receive(viewer, OFFER);
    await rooms.leave(viewer);
    assert.equal(media.open[0]?.viewers.size, 0);
    assert.deepEqual(host.received('viewerCountChanged').at(-1), { roomId, viewers: 0 });
    const other = new RecordingParticipant(undefined);
    await rooms.join(other, roomId);
    await rooms.leave(host);
    assert.equal(media.open.length, 0);
    assert.deepEqual(other.received('liveEnded'), [{ roomId, liveId, reason: 'hostLeft' }]);
  });

  test('media closing by itself (KMS lost) ends the live with mediaError and mediaServerLost', async () => {
    const viewer = new RecordingParticipant(bob);
    await rooms.join(viewer, roomId);
    const { liveId } = await aliceLive();
    media.lives[0]!.abort('mediaServerLost');
    await rooms.join(viewer, roomId); // runs after the queued end
    assert.equal(viewer.received('mediaError').length, 1);
    assert.deepEqual(viewer.received('liveEnded'), [{ roomId, liveId, reason: 'mediaServerLost' }]);
    assert.equal(store.liveById(liveId)?.endReason, 'mediaServerLost');
    assert.equal(rooms.summary(roomId).live, false);
  });

  test('chat: logged-in users only, stored, sent to everyone, replayed on join, rate limited', async () => {
    const viewer = new RecordingParticipant(bob);
    const anon = new RecordingParticipant(undefined);
    await rooms.join(viewer, roomId);
    await rooms.join(anon, roomId);
    await assert.rejects(rooms.roomOf(anon).sendMessage(anon, 'hi'), UnauthenticatedError);
    const message = await rooms.roomOf(viewer).sendMessage(viewer, 'hello');
    assert.deepEqual(message.user, { id: bob.id, name: 'bob' });
    assert.deepEqual(anon.received('messageReceived'), [{ message }]);
    const late = await rooms.join(new RecordingParticipant(undefined), roomId);
    assert.deepEqual(late.messages, [message]);
    await rooms.roomOf(viewer).sendMessage(viewer, 'two');
    await rooms.roomOf(viewer).sendMessage(viewer, 'three');
    await assert.rejects(rooms.roomOf(viewer).sendMessage(viewer, 'four'), RateLimitedError);
  });

  test('joining another room leaves the first one', async () => {
    const bobRoom = store.rooms().find((r) => r.ownerId === bob.id)!.id;
    const { host } = await aliceLive();
    const viewer = new RecordingParticipant(undefined);
    await rooms.join(viewer, roomId);
    await rooms.join(viewer, bobRoom);
    assert.equal(rooms.summary(roomId).viewers, 0);
    assert.equal(rooms.summary(bobRoom).viewers, 1);
    await rooms.join(host, bobRoom);
    assert.equal(rooms.summary(roomId).live, false, 'the host left its live room');
  });

  test('close() ends every live and tells every participant the room closed', async () => {
    const viewer = new RecordingParticipant(bob);
    await rooms.join(viewer, roomId);
    await aliceLive();
    await rooms.close('shutdown');
    assert.equal(media.open.length, 0);
    assert.deepEqual(viewer.received('roomClosed'), [{ roomId, reason: 'shutdown' }]);
  });

  test('list() shows live rooms first', async () => {
    await aliceLive();
    const list = rooms.list();
    assert.equal(list.length, 2);
    assert.equal(list[0]?.id, roomId);
    assert.equal(list[0]?.live, true);
    assert.equal(list[1]?.live, false);
  });
});

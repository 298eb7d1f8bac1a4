import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { StoreCorruptError } from '../../src/errors.js';
import { MESSAGES_KEPT_PER_ROOM, Store } from '../../src/store/Store.js';
import { tempDir } from '../support/tempDir.js';

describe('Store', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  beforeEach(async () => (tmp = await tempDir()));
  afterEach(() => tmp.remove());

  const user = (id: string, name: string) => ({
    id,
    name,
    nameKey: name.toLowerCase(),
    passwordHash: 'x',
    rtmpToken: `rtmp-${id}`,
    createdAt: 1,
  });

  test('open() creates an empty file and data survives a reopen', async () => {
    const store = await Store.open(tmp.dir);
    await store.addUserWithRoom(user('u1', 'Alice'), { id: 'r1', ownerId: 'u1', title: 'T', createdAt: 1 });
    const again = await Store.open(tmp.dir);
    assert.equal(again.userByName('alice')?.id, 'u1');
    assert.equal(again.roomById('r1')?.ownerId, 'u1');
    assert.equal(again.userByRtmpToken('rtmp-u1')?.name, 'Alice');
  });

  test('open() refuses a file that is not JSON, names it, and leaves it untouched', async () => {
    const file = path.join(tmp.dir, 'theia.json');
    await writeFile(file, '{"users": [ broken');
    await assert.rejects(Store.open(tmp.dir), (err: unknown) => {
      assert.ok(err instanceof StoreCorruptError);
      assert.equal(err.file, file);
      assert.match(err.message, /theia\.json/);
      return true;
    });
    assert.equal(await readFile(file, 'utf8'), '{"users": [ broken');
  });

  test('open() refuses JSON of the wrong shape', async () => {
    await writeFile(path.join(tmp.dir, 'theia.json'), JSON.stringify({ version: 1, users: 'nope' }));
    await assert.rejects(Store.open(tmp.dir), StoreCorruptError);
  });

  test('lives left open by a crash are marked ended on open', async () => {
    const store = await Store.open(tmp.dir);
    await store.addLive({
      id: 'l1',
      roomId: 'r1',
      liveCode: 'c',
      startedAt: 1,
      endedAt: null,
      endReason: null,
    });
    const again = await Store.open(tmp.dir);
    const live = again.liveById('l1');
    assert.ok(live?.endedAt);
    assert.equal(live.endReason, 'shutdown');
  });

  test('expired sessions are dropped and removeSession() revokes', async () => {
    const store = await Store.open(tmp.dir);
    await store.addSession({ tokenHash: 'old', userId: 'u', createdAt: 0, expiresAt: Date.now() - 1 });
    await store.addSession({ tokenHash: 'new', userId: 'u', createdAt: 0, expiresAt: Date.now() + 60_000 });
    assert.equal(store.sessionByTokenHash('old'), undefined);
    assert.ok(store.sessionByTokenHash('new'));
    assert.equal(await store.removeSession('new'), true);
    assert.equal(await store.removeSession('new'), false);
  });

  test(`keeps the last ${MESSAGES_KEPT_PER_ROOM} chat messages per room, oldest dropped first`, async () => {
    const store = await Store.open(tmp.dir);
    for (let i = 0; i < MESSAGES_KEPT_PER_ROOM + 3; i++) {
      await store.addMessage({
        id: `m${i}`,
        roomId: 'r1',
        userId: 'u',
        userName: 'A',
        text: `${i}`,
        sentAt: i,
      });
    }
    await store.addMessage({ id: 'other', roomId: 'r2', userId: 'u', userName: 'A', text: 'x', sentAt: 0 });
    const again = await Store.open(tmp.dir);
    const kept = again.messages('r1', 10_000);
    assert.equal(kept.length, MESSAGES_KEPT_PER_ROOM);
    assert.equal(kept[0]?.text, '3');
    assert.deepEqual(
      again.messages('r1', 2).map((m) => m.text),
      [`${MESSAGES_KEPT_PER_ROOM + 1}`, `${MESSAGES_KEPT_PER_ROOM + 2}`],
    );
    assert.equal(again.messages('r2', 100).length, 1);
  });
});

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { InvalidStateError, StoreCorruptError } from '../../src/errors.js';
import { MESSAGES_KEPT_PER_ROOM, Store, type MessageRecord } from '../../src/store/Store.js';
import { tempDir } from '../support/tempDir.js';

const message = (id: string, roomId: string, sentAt = 0): MessageRecord => ({
  id,
  roomId,
  userId: 'u',
  userName: 'A',
  text: id,
  sentAt,
});

/**
 * Runs test/unit/fixtures/storeAppender.ts on `dir` and SIGKILLs it once it has acknowledged
 * `killAfter` chat messages. Returns every id it acknowledged before it died.
 */
async function appendUntilKilled(
  dir: string,
  killAfter: number,
): Promise<{ messages: string[]; sessions: string[] }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(import.meta.dirname, 'fixtures', 'storeAppender.ts'), dir],
    { cwd: path.join(import.meta.dirname, '..', '..'), stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const closed = once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
  try {
    const acked = { messages: [] as string[], sessions: [] as string[] };
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const [kind, id] = line.split(' ');
      if (!id) return;
      (kind === 's' ? acked.sessions : acked.messages).push(id);
      if (acked.messages.length === killAfter) child.kill('SIGKILL');
    });
    const [code, signal] = await closed;
    assert.equal(signal, 'SIGKILL', `the appender exited by itself (code ${code}): ${stderr}`);
    return acked;
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await closed;
    }
  }
}

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

  test('open() refuses JSON of the wrong shape, names the file, and leaves it untouched', async () => {
    const file = path.join(tmp.dir, 'theia.json');
    const text = JSON.stringify({ version: 2, users: 'nope' });
    await writeFile(file, text);
    await assert.rejects(Store.open(tmp.dir), (err: unknown) => {
      assert.ok(err instanceof StoreCorruptError);
      assert.equal(err.file, file);
      assert.match(err.message, /users/);
      return true;
    });
    assert.equal(await readFile(file, 'utf8'), text);
  });

  test('open() refuses a corrupt chat file, names it, and leaves it and theia.json untouched', async () => {
    const store = await Store.open(tmp.dir);
    await store.addMessage(message('m1', 'r1'));
    await store.close();
    const main = await readFile(store.file, 'utf8');
    const chatFile = path.join(store.chatDir, 'r1.json');
    await writeFile(chatFile, '{"version":1,"roomId":"r1","messages":[{"id":');
    await assert.rejects(Store.open(tmp.dir), (err: unknown) => {
      assert.ok(err instanceof StoreCorruptError);
      assert.equal(err.file, chatFile);
      return true;
    });
    assert.equal(await readFile(chatFile, 'utf8'), '{"version":1,"roomId":"r1","messages":[{"id":');
    assert.equal(await readFile(store.file, 'utf8'), main);
  });

  test('writes replace files by rename (steno), so a crash mid-write leaves the previous file whole', async () => {
    const store = await Store.open(tmp.dir);
    await store.addSession({ tokenHash: 'a', userId: 'u', createdAt: 0, expiresAt: Date.now() + 60_000 });
    const before = await stat(store.file);
    // what a crash half-way through writing the temporary file leaves behind
    await writeFile(path.join(tmp.dir, '.theia.json.tmp'), '{"version":2,"users":[');
    await writeFile(path.join(store.chatDir, '.r1.json.tmp'), '{"version":1,');
    await store.addSession({ tokenHash: 'b', userId: 'u', createdAt: 0, expiresAt: Date.now() + 60_000 });
    const after = await stat(store.file);
    assert.notEqual(after.ino, before.ino, 'a new file was renamed over the old one');
    assert.deepEqual(await readdir(tmp.dir), ['chat', 'theia.json'], 'the temporary file was renamed away');
    await store.close();
    const again = await Store.open(tmp.dir);
    assert.ok(again.sessionByTokenHash('a'));
    assert.ok(again.sessionByTokenHash('b'));
  });

  test("writes compact JSON, with each room's chat in its own file", async () => {
    const store = await Store.open(tmp.dir);
    await store.addUserWithRoom(user('u1', 'Alice'), { id: 'r1', ownerId: 'u1', title: 'T', createdAt: 1 });
    await store.addMessage(message('m1', 'r1'));
    const main = await readFile(store.file, 'utf8');
    assert.doesNotMatch(main, /\n/);
    assert.deepEqual(Object.keys(JSON.parse(main)), ['version', 'users', 'rooms', 'lives', 'sessions']);
    const chat = JSON.parse(await readFile(path.join(store.chatDir, 'r1.json'), 'utf8'));
    assert.deepEqual(chat, { version: 1, roomId: 'r1', messages: [message('m1', 'r1')] });
  });

  test('100 concurrent appends share a few writes and all survive a reopen', async () => {
    const store = await Store.open(tmp.dir);
    const ids = Array.from({ length: 100 }, (_, i) => `m${i}`);
    await Promise.all(ids.map((id, i) => store.addMessage(message(id, i % 2 ? 'r1' : 'r2'))));
    const { chatWrites } = store.stats;
    assert.ok(chatWrites <= 4, `${chatWrites} chat file writes for 100 appends to 2 rooms`);
    const mainBefore = store.stats.mainWrites;
    await Promise.all(
      ids.map((id) =>
        store.addSession({ tokenHash: id, userId: 'u', createdAt: 0, expiresAt: Date.now() + 60_000 }),
      ),
    );
    assert.ok(
      store.stats.mainWrites - mainBefore <= 2,
      `${store.stats.mainWrites - mainBefore} writes for 100 sessions`,
    );
    await store.close();
    const again = await Store.open(tmp.dir);
    const kept = [...again.messages('r1', 100), ...again.messages('r2', 100)].map((m) => m.id);
    assert.deepEqual(kept.sort(), [...ids].sort());
    for (const id of ids) assert.ok(again.sessionByTokenHash(id), id);
  });

  test('a change made while a write is in flight resolves only after the next write', async () => {
    const store = await Store.open(tmp.dir);
    const first = store.addMessage(message('m1', 'r1'));
    await Promise.resolve(); // the first write has now started, with m1 only
    let secondDone = false;
    const second = store.addMessage(message('m2', 'r1')).then(() => (secondDone = true));
    await first;
    assert.equal(secondDone, false, 'm2 waits for the write after the one in flight');
    assert.equal(store.stats.chatWrites, 1);
    await second;
    const now = JSON.parse(await readFile(path.join(store.chatDir, 'r1.json'), 'utf8'));
    assert.deepEqual(
      now.messages.map((m: MessageRecord) => m.id),
      ['m1', 'm2'],
    );
    assert.equal(store.stats.chatWrites, 2);
  });

  test('close() waits for pending writes, then refuses changes', async () => {
    const store = await Store.open(tmp.dir);
    const pending = store.addMessage(message('m1', 'r1'));
    await store.close();
    assert.equal(store.closed, true);
    await pending;
    await assert.rejects(store.addMessage(message('m2', 'r1')), InvalidStateError);
    await store.close(); // idempotent
    const again = await Store.open(tmp.dir);
    assert.deepEqual(
      again.messages('r1', 10).map((m) => m.id),
      ['m1'],
    );
  });

  test('open() moves chat out of a version-1 theia.json, keeping the newest per room', async () => {
    const legacy = Array.from({ length: MESSAGES_KEPT_PER_ROOM + 5 }, (_, i) => message(`a${i}`, 'r1', i));
    legacy.push(message('b0', 'r2', 0));
    await writeFile(
      path.join(tmp.dir, 'theia.json'),
      JSON.stringify(
        { version: 1, users: [user('u1', 'Alice')], rooms: [], lives: [], sessions: [], messages: legacy },
        null,
        2,
      ),
    );
    const store = await Store.open(tmp.dir);
    assert.equal(store.userByName('ALICE')?.id, 'u1');
    assert.equal(store.messages('r1', 1000).length, MESSAGES_KEPT_PER_ROOM);
    assert.equal(store.messages('r1', 1)[0]?.id, `a${MESSAGES_KEPT_PER_ROOM + 4}`);
    assert.equal(JSON.parse(await readFile(store.file, 'utf8')).version, 2);
    assert.deepEqual((await readdir(store.chatDir)).sort(), ['r1.json', 'r2.json']);
    const again = await Store.open(tmp.dir);
    assert.equal(again.messages('r1', 1000)[0]?.id, 'a5');
    assert.deepEqual(
      again.messages('r2', 10).map((m) => m.id),
      ['b0'],
    );
  });

  test(
    'no acknowledged write is lost when the process is SIGKILLed mid-stream',
    { timeout: 120_000 },
    async () => {
      const acked = { messages: [] as string[], sessions: [] as string[] };
      for (const killAfter of [10, 25, 40, 60]) {
        const run = await appendUntilKilled(tmp.dir, killAfter);
        acked.messages.push(...run.messages);
        acked.sessions.push(...run.sessions);
      }
      const main = JSON.parse(await readFile(path.join(tmp.dir, 'theia.json'), 'utf8'));
      assert.equal(main.version, 2);
      const onDisk = new Set<string>();
      for (const name of await readdir(path.join(tmp.dir, 'chat'))) {
        if (name.startsWith('.')) continue; // a temporary file the kill cut short
        const chat = JSON.parse(await readFile(path.join(tmp.dir, 'chat', name), 'utf8'));
        for (const m of chat.messages) onDisk.add(m.id);
      }
      const store = await Store.open(tmp.dir);
      for (const id of acked.messages) {
        assert.ok(onDisk.has(id), `acknowledged message ${id} is in its room's file`);
      }
      const inStore = new Set(
        Array.from({ length: 20 }, (_, r) => store.messages(`room-${r}`, MESSAGES_KEPT_PER_ROOM)).flatMap(
          (ms) => ms.map((m) => m.id),
        ),
      );
      assert.ok(acked.messages.length >= 10 + 25 + 40 + 60);
      for (const id of acked.messages) assert.ok(inStore.has(id), `acknowledged message ${id} survived`);
      for (const hash of acked.sessions)
        assert.ok(store.sessionByTokenHash(hash), `acknowledged session ${hash}`);
    },
  );

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

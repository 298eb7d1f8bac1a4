import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SerialQueue } from '../../src/rooms/SerialQueue.js';

test('SerialQueue runs tasks one at a time, in order, and a failure does not stop the queue', async () => {
  const q = new SerialQueue();
  const log: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const a = q.push(async () => {
    log.push('a start');
    await gate;
    log.push('a end');
    return 'a';
  });
  const b = q.push(() => {
    log.push('b');
    return Promise.reject(new Error('b failed'));
  });
  const c = q.push(() => {
    log.push('c');
    return Promise.resolve('c');
  });
  assert.equal(q.pending, 3);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(log, ['a start']);
  release();
  assert.equal(await a, 'a');
  await assert.rejects(b, /b failed/);
  assert.equal(await c, 'c');
  assert.deepEqual(log, ['a start', 'a end', 'b', 'c']);
  assert.equal(q.pending, 0);
});

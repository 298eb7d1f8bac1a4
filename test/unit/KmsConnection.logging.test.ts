/**
 * What KmsConnection writes to the log while KMS comes and goes: one line per change of state,
 * never a stack per reconnection attempt.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { KmsConnection } from '../../src/media/KmsConnection.js';
import { FakeKms } from '../support/FakeKms.js';

interface Line {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** A debug-level pino logger that keeps its lines; `waitFor(msg, n)` resolves at the n-th such line. */
function capturingLogger() {
  const lines: Array<{ raw: string; line: Line }> = [];
  const waiters: Array<{ msg: string; count: number; resolve: () => void }> = [];
  const count = (msg: string) => lines.filter((l) => l.line.msg === msg).length;
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const raw of chunk.toString().split('\n').filter(Boolean)) {
        lines.push({ raw, line: JSON.parse(raw) as Line });
      }
      for (const w of [...waiters]) {
        if (count(w.msg) >= w.count) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      }
      done();
    },
  });
  return {
    log: pino({ level: 'debug' }, stream),
    lines,
    waitFor: (msg: string, n: number) =>
      new Promise<void>((resolve) =>
        count(msg) >= n ? resolve() : waiters.push({ msg, count: n, resolve }),
      ),
  };
}

describe('KmsConnection logging', () => {
  let fake: FakeKms;
  before(async () => (fake = await FakeKms.start()));
  after(() => fake.stop());

  test('while KMS is down it logs one line per state change, not a stack every attempt', async () => {
    const { log, lines, waitFor } = capturingLogger();
    const kms = await KmsConnection.create({
      uri: fake.url,
      callTimeoutMs: 1000,
      heartbeatMs: 100,
      reconnectMs: 10,
      instanceId: 'log-test',
      log,
    });
    try {
      assert.equal(kms.state, 'ready');
      const lost = once(kms, 'lost');
      await fake.stop();
      await lost;
      await waitFor('KMS still not reachable', 5); // five failed attempts while down
      const ready = once(kms, 'ready');
      await fake.restart();
      await ready;
    } finally {
      kms.close();
    }
    const shown = lines.filter((l) => l.line.level >= 30).map((l) => l.line.msg);
    assert.deepEqual(shown, ['connected to KMS', 'lost KMS; reconnecting', 'connected to KMS']);
    for (const { raw } of lines) {
      assert.ok(!raw.includes('"stack"'), `no stack traces: ${raw}`);
      assert.ok(raw.length < 400, `one short line: ${raw}`);
    }
    const lostLine = lines.find((l) => l.line.msg === 'lost KMS; reconnecting')?.line;
    assert.equal(typeof lostLine?.error, 'string');
  });

  test('a KMS that is down at start-up is reported once, then quietly retried', async () => {
    await fake.stop();
    const { log, lines, waitFor } = capturingLogger();
    const kms = await KmsConnection.create({
      uri: fake.url,
      callTimeoutMs: 1000,
      heartbeatMs: 100,
      reconnectMs: 10,
      instanceId: 'log-test',
      log,
    });
    try {
      await waitFor('KMS still not reachable', 3);
      const ready = once(kms, 'ready');
      await fake.restart();
      await ready;
    } finally {
      kms.close();
    }
    const shown = lines.filter((l) => l.line.level >= 30).map((l) => l.line.msg);
    assert.deepEqual(shown, ['KMS not reachable; retrying', 'connected to KMS']);
    assert.ok(lines.every(({ raw }) => !raw.includes('"stack"') && raw.length < 400));
  });
});

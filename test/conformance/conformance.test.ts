/**
 * Runs the shared conformance scorer (`/work/shared/kms-protocol/conformance.mjs`, which replays the
 * client side of the recording of kurento-client 7.3.0 ↔ a real KMS 7.3.1) against FakeKms.
 * A real KMS scores 115/115; the fake must too.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { FakeKms } from '../support/FakeKms.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const scorer = path.resolve(repoRoot, '../shared/kms-protocol/conformance.mjs');

test('FakeKms conforms to the recorded real KMS 7.3.1 (conformance.mjs)', async (t) => {
  if (!existsSync(scorer)) {
    t.skip(`conformance scorer not found at ${scorer}`);
    return;
  }
  const kms = await FakeKms.start();
  try {
    // Asynchronous on purpose: the fake answers from this process's event loop.
    const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [scorer, kms.url, '--verbose'],
        { cwd: repoRoot, timeout: 120000 },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
    });
    const failures = run.stdout.split('\n').filter((l) => l.startsWith('FAIL'));
    const last = run.stdout.trim().split('\n').at(-1) ?? '';
    const score = /^conformance: (\d+)\/(\d+) steps match$/.exec(last);
    assert.ok(score, `unexpected last line: ${last}\n${run.stderr}`);
    const [matched, total] = [Number(score[1]), Number(score[2])];
    assert.equal(matched, total, failures.join('\n'));
    assert.ok(total >= 115, `only ${total} steps`);
    assert.equal(run.code, 0, run.stderr);
  } finally {
    await kms.stop();
  }
});

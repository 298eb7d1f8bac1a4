/**
 * Runs the shared conformance scorer (`/work/shared/kms-protocol/conformance.mjs`) against FakeKms.
 * It replays the client side of a recording of kurento-client 7.3.0 ↔ a real KMS 7.3 and compares
 * every answer with the real one:
 * - `real-kms-scenario.jsonl` (the default): a real KMS scores 115/115;
 * - `real-kms-mixers.jsonl` (mixers, HubPorts, switching, AlphaBlending, FaceOverlayFilter,
 *   RtpEndpoints, requestKeyframe, getStats, ServerManager): a real KMS scores 323/323.
 * The fake must match every step, without media and with `media: true` (werift peers and UDP
 * sockets behind the endpoints: the same answers).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { FakeKms, type FakeKmsOptions } from '../support/FakeKms.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const scorer = path.resolve(repoRoot, '../shared/kms-protocol/conformance.mjs');
const skip = !existsSync(scorer) && `conformance scorer not found at ${scorer}`;

/** Replays `recording` (the scorer's default when undefined) against a new fake and returns the score. */
async function replay(
  opts: FakeKmsOptions,
  recording?: string,
): Promise<{ matched: number; total: number; failures: string[] }> {
  const kms = await FakeKms.start(opts);
  try {
    // Asynchronous on purpose: the fake answers from this process's event loop.
    const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [scorer, kms.url, '--verbose', ...(recording ? ['--recording', recording] : [])],
        { cwd: repoRoot, timeout: 120000, maxBuffer: 16 * 1024 * 1024 },
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
    assert.equal(run.code === 0, score[1] === score[2], run.stderr);
    // A call that would have crashed a real KMS would be a fake answering where KMS could not.
    assert.deepEqual(kms.crashingCalls, []);
    return { matched: Number(score[1]), total: Number(score[2]), failures };
  } finally {
    await kms.stop();
  }
}

test('FakeKms conforms to the first recording (real-kms-scenario.jsonl): 115/115', { skip }, async () => {
  const { matched, total, failures } = await replay({});
  assert.deepEqual({ matched, total }, { matched: 115, total: 115 }, failures.join('\n'));
});

test('FakeKms conforms to the mixers recording (real-kms-mixers.jsonl): 323/323', { skip }, async () => {
  const { matched, total, failures } = await replay({}, 'real-kms-mixers.jsonl');
  assert.deepEqual({ matched, total }, { matched: 323, total: 323 }, failures.join('\n'));
});

test('FakeKms with media conforms to the mixers recording too: 323/323', { skip }, async () => {
  const { matched, total, failures } = await replay({ media: true }, 'real-kms-mixers.jsonl');
  assert.deepEqual({ matched, total }, { matched: 323, total: 323 }, failures.join('\n'));
});

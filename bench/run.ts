/**
 * Runs every benchmark, one child process each (so one's heap, GC and event loop do not disturb the
 * next), in order. A failing benchmark does not stop the others; the exit code is 1 if any failed.
 *
 *   npm run bench
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';

const benches = [
  'signalling.bench.ts',
  'joins.bench.ts',
  'recovery.bench.ts',
  'store.bench.ts',
  'dash-latency.bench.ts',
];
const failed: string[] = [];
for (const bench of benches) {
  console.log(`\n=== ${bench}`);
  const child = spawn(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', path.join(import.meta.dirname, bench)],
    {
      stdio: 'inherit',
    },
  );
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  if (code !== 0) failed.push(`${bench} (${signal ?? `exit ${code}`})`);
}
if (failed.length > 0) {
  console.error(`\nfailed: ${failed.join(', ')}`);
  process.exitCode = 1;
}

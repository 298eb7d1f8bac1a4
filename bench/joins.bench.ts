/**
 * Join storm: N clients join one live room at once (issue 6: 1,000 joins took 15 s, p95 11.3 s,
 * and sent 501,500 viewerCountChanged frames, because every join told everyone and recounted).
 * Measures each `joinRoom`'s answer time (ms, p50/p95/max), the wave's wall time, and how many
 * `viewerCountChanged` frames all clients received in total. Goal: p95 under 1 s against the fake
 * KMS; viewer counts are coalesced to at most one per room per second.
 *
 * Writes bench/results/joins-<timestamp>.json.
 *
 *   npm run bench
 *   BENCH_JOINS=2000 node --expose-gc --import tsx bench/joins.bench.ts
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { RpcClient } from '../test/support/RpcClient.js';
import { startTheia } from '../test/support/theia.js';

const joins = Number(process.env.BENCH_JOINS ?? 1000);
const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const round = (x: number): number => Math.round(x * 10) / 10;

const theia = await startTheia({ env: { KMS_CALL_TIMEOUT_MS: '30000' } });
let report;
try {
  const { host, hostWs } = await theia.goLive();
  const clients: RpcClient[] = [];
  // connections are opened first (the storm is the joins, not TCP handshakes), in batches
  for (let i = 0; i < joins; i += 100) {
    clients.push(
      ...(await Promise.all(Array.from({ length: Math.min(100, joins - i) }, () => theia.connect()))),
    );
  }
  const started = performance.now();
  const latencies = await Promise.all(
    clients.map(async (ws) => {
      const t0 = performance.now();
      await ws.request('joinRoom', { roomId: host.roomId });
      return performance.now() - t0;
    }),
  );
  const wallMs = performance.now() - started;
  // the last coalesced count arrives within a second of the last join
  await hostWs.next('viewerCountChanged', (p) => p.viewers === joins + 1, 5000);
  const frames = [hostWs, ...clients].reduce((n, ws) => n + ws.all('viewerCountChanged').length, 0);
  latencies.sort((a, b) => a - b);
  report = {
    benchmark: `join storm: ${joins} clients join one live room at once`,
    kms: process.env.KMS_URI ?? 'fake (test/support/FakeKms.ts), in-process',
    node: process.version,
    date: new Date().toISOString(),
    note: 'one process holds Theia, the fake KMS and the clients; figures include the clients',
    goal: 'joinRoom p95 < 1000 ms',
    joins,
    wallMs: round(wallMs),
    joinMs: {
      p50: round(percentile(latencies, 50)),
      p95: round(percentile(latencies, 95)),
      max: round(latencies.at(-1) ?? NaN),
    },
    viewerCountFrames: frames,
  };
} finally {
  await theia.close();
}
console.table([
  { joins: report.joins, wallMs: report.wallMs, ...report.joinMs, frames: report.viewerCountFrames },
]);
const dir = path.join(import.meta.dirname, 'results');
await mkdir(dir, { recursive: true });
const file = path.join(dir, `joins-${report.date.replace(/[:.]/g, '-')}.json`);
await writeFile(file, JSON.stringify(report, null, 2) + '\n');
console.log(`written to ${path.relative(process.cwd(), file)}`);

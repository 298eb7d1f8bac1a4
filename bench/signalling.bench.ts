/**
 * Signalling benchmark: one host live, then N viewers connect, join and ask for video, all at once.
 * Measures what Theia adds on top of KMS: time from a viewer's `receiveVideo` to its SDP answer
 * (ms, p50/p95/max), the whole wave's wall time, and the server's heap and RSS growth (MiB).
 *
 * Against the fake KMS by default (whose own work is near zero, so the figures are Theia's);
 * against a real KMS when KMS_URI is set. Writes bench/results/signalling-<timestamp>.json.
 *
 *   npm run bench                   # waves of 50 and 200 viewers
 *   BENCH_VIEWERS=500 npm run bench
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { chromeRecvOnlyOffer } from '../test/support/sdp.js';
import { startTheia } from '../test/support/theia.js';
import type { RpcClient } from '../test/support/RpcClient.js';

const waves = (process.env.BENCH_VIEWERS ?? '50,200').split(',').map(Number);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

const mib = (bytes: number): number => Math.round((bytes / 1048576) * 10) / 10;

interface WaveResult {
  viewers: number;
  wallMs: number;
  answerMs: { p50: number; p95: number; max: number };
  heapGrowthMiB: number;
  rssGrowthMiB: number;
}

async function wave(viewers: number): Promise<WaveResult> {
  const theia = await startTheia({ env: { KMS_CALL_TIMEOUT_MS: '30000' } });
  try {
    const { host } = await theia.goLive();
    global.gc?.();
    const before = process.memoryUsage();
    const started = performance.now();
    const clients: RpcClient[] = await Promise.all(Array.from({ length: viewers }, () => theia.connect()));
    const latencies = await Promise.all(
      clients.map(async (ws) => {
        await ws.request('joinRoom', { roomId: host.roomId });
        const t0 = performance.now();
        await ws.request('receiveVideo', { sdpOffer: chromeRecvOnlyOffer });
        return performance.now() - t0;
      }),
    );
    const wallMs = performance.now() - started;
    global.gc?.();
    const after = process.memoryUsage();
    latencies.sort((a, b) => a - b);
    const round = (x: number) => Math.round(x * 10) / 10;
    return {
      viewers,
      wallMs: round(wallMs),
      answerMs: {
        p50: round(percentile(latencies, 50)),
        p95: round(percentile(latencies, 95)),
        max: round(latencies.at(-1) ?? NaN),
      },
      heapGrowthMiB: mib(after.heapUsed - before.heapUsed),
      rssGrowthMiB: mib(after.rss - before.rss),
    };
  } finally {
    await theia.close();
  }
}

const results: WaveResult[] = [];
for (const n of waves) results.push(await wave(n));
const report = {
  benchmark: 'signalling: N viewers join a live room and receiveVideo at once',
  kms: process.env.KMS_URI ?? 'fake (test/support/FakeKms.ts), in-process',
  node: process.version,
  date: new Date().toISOString(),
  note: 'one process holds Theia, the fake KMS and the clients; figures include the clients',
  results,
};
console.table(
  results.map((r) => ({
    viewers: r.viewers,
    wallMs: r.wallMs,
    ...r.answerMs,
    heapMiB: r.heapGrowthMiB,
    rssMiB: r.rssGrowthMiB,
  })),
);
const dir = path.join(import.meta.dirname, 'results');
await mkdir(dir, { recursive: true });
const file = path.join(dir, `signalling-${report.date.replace(/[:.]/g, '-')}.json`);
await writeFile(file, JSON.stringify(report, null, 2) + '\n');
console.log(`written to ${path.relative(process.cwd(), file)}`);

/**
 * Recovery after a KMS restart (issue 10: after a restart the next live could start only ~8 s
 * later): time from the fake KMS accepting connections again to the first successful `startLive`
 * of a host who pressed "Go live" while it was down (ms), over several restarts; and the KMS calls
 * on a viewer's join path. Against the fake KMS (in-process), so the figures are Theia's.
 *
 * Writes bench/results/recovery-<timestamp>.json.
 */
import { once } from 'node:events';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { chromeRecvOnlyOffer } from '../test/support/sdp.js';
import { startTheia } from '../test/support/theia.js';

const rounds = Number(process.env.BENCH_RESTARTS ?? 5);
const round = (x: number): number => Math.round(x * 10) / 10;

// the production defaults for reconnection and call timeouts, not the test suite's
const theia = await startTheia({
  env: { KMS_RECONNECT_MS: '2000', KMS_HEARTBEAT_MS: '5000', KMS_CALL_TIMEOUT_MS: '10000' },
});
let report;
try {
  const fake = theia.fake!;
  const host = await theia.signUp();
  const hostWs = await theia.connect(host.token);
  await hostWs.request('joinRoom', { roomId: host.roomId });
  const recoveries: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const lost = once(theia.app.kms, 'lost');
    await fake.stop();
    await lost;
    const starting = hostWs.request('startLive');
    // KMS down for a moment, as a restart would be
    await new Promise((r) => setTimeout(r, 300));
    await fake.restart();
    const t0 = performance.now();
    await starting;
    recoveries.push(performance.now() - t0);
    await hostWs.request('stopLive');
  }

  // the KMS calls on a viewer's join path, counted at the fake
  await hostWs.request('startLive');
  const viewer = await theia.connect();
  await viewer.request('joinRoom', { roomId: host.roomId });
  const before = fake.calls().length;
  const t0 = performance.now();
  await viewer.request('receiveVideo', { sdpOffer: chromeRecvOnlyOffer });
  const joinMs = performance.now() - t0;
  const joinCalls = fake
    .calls()
    .slice(before)
    .map((c) => {
      const p = c.params as { operation?: string; type?: string };
      return p.operation ?? (p.type ? `${c.method} ${p.type}` : c.method);
    });
  await hostWs.request('stopLive');

  recoveries.sort((a, b) => a - b);
  report = {
    benchmark: 'recovery: KMS back → first successful startLive; KMS calls on a viewer join',
    kms: 'fake (test/support/FakeKms.ts), in-process; KMS_RECONNECT_MS=2000 (production default)',
    node: process.version,
    date: new Date().toISOString(),
    restarts: rounds,
    recoveryMs: { p50: round(recoveries[Math.floor(rounds / 2)]!), max: round(recoveries.at(-1)!) },
    viewerJoin: { ms: round(joinMs), kmsCalls: joinCalls },
  };
} finally {
  await theia.close();
}
console.log(JSON.stringify(report, null, 2));
const dir = path.join(import.meta.dirname, 'results');
await mkdir(dir, { recursive: true });
const file = path.join(dir, `recovery-${report.date.replace(/[:.]/g, '-')}.json`);
await writeFile(file, JSON.stringify(report, null, 2) + '\n');
console.log(`written to ${path.relative(process.cwd(), file)}`);

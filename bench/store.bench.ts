/**
 * Store benchmark: chat at a steady rate into a large store, as a busy server would see it.
 *
 * Seeds `<tmp>/theia.json` with 10,000 users, 1,000 rooms (each holding BENCH_CHAT_PER_ROOM chat
 * messages, default 100: the retained chat), 5,000 ended lives and 2,000 sessions, opens it with
 * `Store.open()`, then appends BENCH_RATE chat messages per second (default 50) to random rooms for
 * BENCH_STORE_SECONDS (default 20). Open loop: message i is due at i / rate seconds, and its reply
 * time runs from when it was due (not from when a blocked event loop got round to sending it) to
 * when `addMessage()` resolved, i.e. the message is durable. Measures reply time (ms, p50/p95/max),
 * event-loop lag over the load (`monitorEventLoopDelay`, ms, p50/p99/max), the file's size (MB) and
 * how many messages were sent and acknowledged. A message not sent by 3 × BENCH_STORE_SECONDS, or
 * not acknowledged 60 s after the last send, is counted as lost for the run. Writes
 * bench/results/store-<timestamp>.json.
 *
 *   npm run bench
 *   BENCH_RATE=200 BENCH_STORE_SECONDS=10 node --import tsx bench/store.bench.ts
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Store } from '../src/store/Store.js';
import { tempDir } from '../test/support/tempDir.js';

const USERS = 10_000;
const ROOMS = 1_000;
const LIVES = 5_000;
const SESSIONS = 2_000;
const chatPerRoom = Number(process.env.BENCH_CHAT_PER_ROOM ?? 100);
const rate = Number(process.env.BENCH_RATE ?? 50);
const seconds = Number(process.env.BENCH_STORE_SECONDS ?? 20);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}
const round = (x: number) => Math.round(x * 10) / 10;
const text = () => 'lorem ipsum dolor sit amet '.repeat(1 + Math.floor(Math.random() * 4)).trim();

/** Theia's file shape (version 1), filled to the benchmark's size. */
function seed() {
  const users = Array.from({ length: USERS }, (_, i) => {
    const name = `user${i}`;
    return {
      id: randomUUID(),
      name,
      nameKey: name,
      passwordHash: `scrypt$16384$8$1$${randomBytes(16).toString('base64url')}$${randomBytes(32).toString('base64url')}`,
      rtmpToken: randomBytes(16).toString('hex'),
      createdAt: Date.now(),
    };
  });
  const rooms = users
    .slice(0, ROOMS)
    .map((u) => ({ id: randomUUID(), ownerId: u.id, title: `${u.name}'s room`, createdAt: Date.now() }));
  const lives = Array.from({ length: LIVES }, (_, i) => ({
    id: randomUUID(),
    roomId: rooms[i % ROOMS]!.id,
    liveCode: randomBytes(16).toString('hex'),
    startedAt: Date.now() - 3_600_000,
    endedAt: Date.now(),
    endReason: 'hostLeft',
  }));
  const sessions = Array.from({ length: SESSIONS }, (_, i) => ({
    tokenHash: randomBytes(32).toString('hex'),
    userId: users[i]!.id,
    createdAt: Date.now(),
    expiresAt: Date.now() + 86_400_000,
  }));
  const messages = rooms.flatMap((room, r) =>
    Array.from({ length: chatPerRoom }, (_, i) => ({
      id: randomUUID(),
      roomId: room.id,
      userId: users[(r + i) % USERS]!.id,
      userName: users[(r + i) % USERS]!.name,
      text: text(),
      sentAt: Date.now() - (chatPerRoom - i) * 1000,
    })),
  );
  return { version: 1 as const, users, rooms, lives, sessions, messages };
}

/** Writes the seed as a version-1 theia.json (the shape every Theia so far reads); keeps only ids. */
async function writeSeed(file: string) {
  const data = seed();
  await writeFile(file, JSON.stringify(data));
  return {
    users: data.users.map((u) => ({ id: u.id, name: u.name })),
    roomIds: data.rooms.map((r) => r.id),
    bytes: (await stat(file)).size,
  };
}

const tmp = await tempDir('theia-bench-');
try {
  const file = path.join(tmp.dir, 'theia.json');
  const { users, roomIds, bytes } = await writeSeed(file);
  // the first open may migrate the file to the running code's layout; time a plain open after it
  await (await Store.open(tmp.dir)).close?.();
  global.gc?.();
  const openStart = performance.now();
  const store = await Store.open(tmp.dir);
  const openMs = round(performance.now() - openStart);
  // start-up garbage is not what this measures
  global.gc?.();

  // the machine's own noise (other processes on the same cores), for comparison with the load's lag
  const idleLag = monitorEventLoopDelay({ resolution: 1 });
  idleLag.enable();
  await sleep(3000);
  idleLag.disable();

  const lag = monitorEventLoopDelay({ resolution: 1 });
  const total = Math.round(rate * seconds);
  const latencies: number[] = [];
  const inFlight = new Set<Promise<void>>();
  let sent = 0;
  let failed = 0;
  lag.enable();
  const start = performance.now();
  const deadline = start + 3 * seconds * 1000;
  while (sent < total && performance.now() < deadline) {
    // one message per macrotask, as each arrives in its own socket read on a server; a blocked loop
    // makes the next ones late, and their lateness counts in their reply time
    await sleep(Math.max(0, start + (sent * 1000) / rate - performance.now()));
    const due = start + (sent * 1000) / rate;
    const u = users[Math.floor(Math.random() * USERS)]!;
    const p = store
      .addMessage({
        id: randomUUID(),
        roomId: roomIds[Math.floor(Math.random() * ROOMS)]!,
        userId: u.id,
        userName: u.name,
        text: text(),
        sentAt: Date.now(),
      })
      .then(
        () => void latencies.push(performance.now() - due),
        () => void failed++,
      )
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
    sent++;
  }
  await Promise.race([Promise.all(inFlight), sleep(60_000, undefined, { ref: false })]);
  const loadMs = performance.now() - start;
  lag.disable();
  await store.close?.();

  latencies.sort((a, b) => a - b);
  const result = {
    store: {
      users: USERS,
      rooms: ROOMS,
      chatPerRoom,
      lives: LIVES,
      sessions: SESSIONS,
      seededMB: round(bytes / 1e6),
    },
    load: { ratePerSec: rate, seconds, planned: total, sent, acknowledged: latencies.length, failed },
    openMs,
    loadWallMs: round(loadMs),
    replyMs: {
      p50: round(percentile(latencies, 50)),
      p95: round(percentile(latencies, 95)),
      max: round(latencies.at(-1) ?? NaN),
    },
    loopLagMs: {
      p50: round(lag.percentile(50) / 1e6),
      p99: round(lag.percentile(99) / 1e6),
      max: round(lag.max / 1e6),
    },
    idleLoopLagMs: {
      p50: round(idleLag.percentile(50) / 1e6),
      p99: round(idleLag.percentile(99) / 1e6),
      max: round(idleLag.max / 1e6),
    },
    mainFileMBAfter: round((await stat(file)).size / 1e6),
  };
  const report = {
    benchmark: `store: ${rate} chat messages/s into a store of ${USERS} users and ${ROOMS} rooms`,
    node: process.version,
    date: new Date().toISOString(),
    note:
      'reply = from when the message was due to when addMessage() resolved (durable); one process; ' +
      'loop lag includes its 1 ms sampling interval, idleLoopLagMs is 3 s without load just before',
    load1: os.loadavg()[0],
    goal: { replyP95Ms: 50, loopLagP99Ms: 20 },
    result,
  };
  console.table({
    replyMs: result.replyMs,
    loopLagMs: result.loopLagMs,
    idleLoopLagMs: result.idleLoopLagMs,
  });
  console.log(
    JSON.stringify({
      store: result.store,
      load: result.load,
      openMs,
      mainFileMBAfter: result.mainFileMBAfter,
    }),
  );
  const dir = path.join(import.meta.dirname, 'results');
  await mkdir(dir, { recursive: true });
  const out = path.join(dir, `store-${report.date.replace(/[:.]/g, '-')}.json`);
  await writeFile(out, JSON.stringify(report, null, 2) + '\n');
  console.log(`written to ${path.relative(process.cwd(), out)}`);
} finally {
  await tmp.remove();
}

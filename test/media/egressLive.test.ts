/**
 * A live's whole egress (LiveEgress, as Room starts it) with real ffmpeg: the RTP test source
 * stands in for KMS's program, fanned out by ProgramRelay to each egress RtpEndpoint's ports.
 * A live with two RTMP destinations — a local node-media-server and a port where nothing listens —
 * pushes H.264 + AAC to the server; stopping the server makes its destination retry, restarting
 * it brings it back live; the refused one retries alone; DASH never stops; every ffmpeg asked for a
 * keyframe when it started; closing leaves no process, no endpoint, no port, no file.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { LiveEgress } from '../../src/egress/LiveEgress.js';
import { RtpPortPool, type RtpPortLease } from '../../src/egress/RtpPortPool.js';
import { createLogger } from '../../src/logger.js';
import type { DashStatus, DestinationStatus } from '../../src/rooms/egress.js';
import { tempDir } from '../support/tempDir.js';
import { isAlive, waitForEvent, waitForPidGone, type TestChild } from './fixtures/processes.js';
import { ProgramRelay } from './fixtures/programRelay.js';
import { freeTcpPort, startRtmpServer } from './fixtures/rtmpServer.js';
import { startRtpSource } from './fixtures/rtpSource.js';

const ffmpegPath = process.env.FFMPEG_PATH ?? 'ffmpeg';
const ffprobePath = process.env.FFPROBE_PATH ?? 'ffprobe';
const run = promisify(execFile);
const log = createLogger('test-egress-live');

/** ffmpeg processes this test process started (setpriv execs ffmpeg: same pid). */
async function ffmpegChildren(): Promise<number[]> {
  try {
    const { stdout } = await run('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)]);
    return stdout
      .split('\n')
      .filter((l) => /\bffmpeg\b/.test(l))
      .map((l) => Number(l.trim().split(/\s+/)[0]));
  } catch {
    return [];
  }
}

describe('LiveEgress with RTMP destinations', () => {
  let dir: { dir: string; remove: () => Promise<void> };
  let relayLease: RtpPortLease;
  let relay: ProgramRelay;
  let pool: RtpPortPool;
  let source: TestChild | undefined;
  let server: TestChild | undefined;
  let rtmpPort: number;
  let egress: LiveEgress;
  const dash: DashStatus[] = [];
  const roomId = 'room-rtmp';

  function destination(id: string): DestinationStatus {
    return egress.egressStatus().destinations.find((d) => d.id === id)!;
  }
  function untilDestination(
    id: string,
    state: DestinationStatus['state'],
    timeoutMs: number,
    reason?: RegExp,
  ) {
    if (destination(id).state === state && (!reason || reason.test(destination(id).reason ?? '')))
      return Promise.resolve();
    return waitForEvent<[DestinationStatus]>(
      egress,
      'destinationChanged',
      timeoutMs,
      (d) => d.id === id && d.state === state && (!reason || reason.test(d.reason ?? '')),
    );
  }

  before(async () => {
    dir = await tempDir('theia-live-egress-');
    relayLease = await new RtpPortPool({ min: 47_000, max: 47_099 }).allocate(2);
    const [videoPort, audioPort] = relayLease.ports as [number, number];
    relay = await ProgramRelay.create({ videoPort, audioPort });
    pool = new RtpPortPool({ min: 47_100, max: 47_199 });
    rtmpPort = await freeTcpPort();
    server = await startRtmpServer(rtmpPort, dir.dir);
    const closedPort = await freeTcpPort();
    source = await startRtpSource([{ videoPort, audioPort }], ffmpegPath);
    egress = new LiveEgress({ roomId, liveId: 'live-1' }, relay.media, {
      dashDir: path.join(dir.dir, 'dash'),
      ffmpegPath,
      ports: pool,
      rtpAddress: '127.0.0.1',
      utcTimingUrl: 'http://127.0.0.1:8080/api/time',
      destinations: [
        { id: 'cdn', url: `rtmp://127.0.0.1:${rtmpPort}/live/stream-secret` },
        { id: 'refusing', url: `rtmp://127.0.0.1:${closedPort}/live/other-secret` },
      ],
      rtmpRestart: { initialDelayMs: 200, maxDelayMs: 800 },
      log,
    });
    egress.on('change', (s) => dash.push(s));
  });

  after(async () => {
    egress?.close();
    await egress?.whenStopped();
    await source?.stop();
    await server?.stop();
    relay?.close();
    relayLease?.release();
    await dir?.remove();
  });

  test('every output gets its own endpoint, and the destinations start as connecting, keys hidden', () => {
    const status = egress.egressStatus();
    assert.deepEqual(
      status.destinations.map((d) => d.url),
      [
        `rtmp://127.0.0.1:${rtmpPort}/live/***`,
        /^rtmp:\/\/127\.0\.0\.1:\d+\/live\/\*\*\*$/.exec(status.destinations[1]!.url)?.[0],
      ],
    );
    assert.doesNotMatch(JSON.stringify(status), /secret/);
  });

  test('pushes H.264 and AAC to the RTMP server while DASH becomes ready', async () => {
    await untilDestination('cdn', 'live', 20_000);
    if (egress.status !== 'ready')
      await waitForEvent(egress, 'change', 20_000, (s: DashStatus) => s === 'ready');
    assert.equal(relay.targets, 3, 'DASH and two destinations, each its own endpoint');
    assert.ok(relay.keyframeRequests >= 3, `keyframe requests: ${relay.keyframeRequests}`);
    const { stdout } = await run(ffprobePath, [
      '-v',
      'error',
      '-rw_timeout',
      '10000000',
      '-show_entries',
      'stream=codec_type,codec_name',
      '-of',
      'csv=p=0',
      `rtmp://127.0.0.1:${rtmpPort}/live/stream-secret`,
    ]);
    assert.deepEqual([...new Set(stdout.split('\n').filter((l) => l.trim() !== ''))].sort(), [
      'aac,audio',
      'h264,video',
    ]);
    await untilDestination('refusing', 'retrying', 10_000, /refused/i);
  });

  test('the server going away → retrying; back → live; DASH never stops', async () => {
    const retrying = untilDestination('cdn', 'retrying', 15_000);
    server!.child.kill('SIGKILL');
    await server!.exited;
    await retrying;
    assert.doesNotMatch(destination('cdn').reason ?? '', /stream-secret/);
    server = await startRtmpServer(rtmpPort, dir.dir);
    await untilDestination('cdn', 'live', 20_000);
    assert.deepEqual(dash, ['ready'], 'DASH went ready once and never restarted');
    assert.ok(['retrying', 'connecting'].includes(destination('refusing').state));
  });

  test('close() stops every ffmpeg and releases endpoints, ports and files', async () => {
    const pids = (await ffmpegChildren()).filter((pid) => pid !== source?.pid); // not the RTP source
    // DASH and the live push; the refused one may be between two attempts
    assert.ok(pids.length >= 2, `ffmpeg running: ${pids.join(',')}`);
    egress.close();
    assert.deepEqual(
      egress.egressStatus().destinations.map((d) => d.state),
      ['closed', 'closed'],
    );
    await egress.whenStopped();
    for (const pid of pids) await waitForPidGone(pid, 5000);
    for (const pid of pids) assert.equal(isAlive(pid), false);
    assert.equal(relay.targets, 0);
    assert.equal(existsSync(path.join(dir.dir, 'dash', roomId)), false);
    // every port is back in the pool: a lease of the whole range (50 pairs) succeeds
    (await pool.allocate(50)).release();
  });
});

/**
 * FfmpegProcess and FfmpegSupervisor with the real ffmpeg (FFMPEG_PATH, default `ffmpeg`):
 * start-up, progress, failure before start-up vs death after it, stall, close, restart with
 * backoff, no orphan after the parent is SIGKILLed, and the start-up capability check.
 */
import assert from 'node:assert/strict';
import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkFfmpegCapabilities } from '../../src/egress/ffmpegCapabilities.js';
import { createLogger } from '../../src/logger.js';
import { FfmpegCapabilityError, type FfmpegExitError } from '../../src/process/errors.js';
import {
  FfmpegProcess,
  type FfmpegProcessOptions,
  type OrphanGuard,
} from '../../src/process/FfmpegProcess.js';
import { FfmpegSupervisor } from '../../src/process/FfmpegSupervisor.js';
import { tempDir } from '../support/tempDir.js';
import { isAlive, startChild, waitForEvent, waitForPidGone } from './fixtures/processes.js';

const ffmpegPath = process.env.FFMPEG_PATH ?? 'ffmpeg';
const logger = createLogger('test-ffmpeg');
const here = path.dirname(fileURLToPath(import.meta.url));
/** An endless, light source: 160×120 at 10 fps in real time into the null muxer. */
const ENDLESS = ['-re', '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=10', '-f', 'null', '-'];

const pids = new Set<number>();
function ffmpeg(options: Partial<FfmpegProcessOptions> = {}): FfmpegProcess {
  const child = new FfmpegProcess({ ffmpegPath, args: ENDLESS, logger, ...options });
  if (child.pid !== undefined) pids.add(child.pid);
  return child;
}

after(async () => {
  for (const pid of pids) await waitForPidGone(pid, 5000);
});

describe('FfmpegProcess', () => {
  test('reports start-up and progress (frames, fps, out_time in ms), and close() stops it once', async () => {
    const child = ffmpeg({ statsPeriodMs: 200 });
    await waitForEvent(child, 'started', 10_000);
    assert.equal(child.started, true);
    const [progress] = await waitForEvent<[{ frame: number; outTimeMs: number }]>(
      child,
      'progress',
      5000,
      (p) => p.frame >= 3,
    );
    assert.ok(progress.outTimeMs > 0, 'out_time advances');
    assert.ok(child.lastProgress);

    let closes = 0;
    child.on('close', () => (closes += 1));
    let deaths = 0;
    child.on('died', () => (deaths += 1));
    child.close();
    child.close();
    assert.equal(child.closed, true);
    assert.equal(closes, 1, 'close is emitted once, synchronously');
    const exit = await child.whenExited();
    assert.equal(child.exited, true);
    assert.equal(child.died, false, 'a stop that was asked for is no death');
    assert.equal(deaths, 0);
    assert.ok(exit.code !== null || exit.signal === 'SIGTERM', `ended by SIGTERM: ${JSON.stringify(exit)}`);
  });

  test('an ffmpeg that exits before start-up is a failure (@failure), with its error line', async () => {
    const child = ffmpeg({ args: ['-i', '/nonexistent/input.sdp', '-f', 'null', '-'] });
    const [error] = await waitForEvent<[FfmpegExitError]>(child, '@failure', 10_000);
    assert.equal(error.kind, 'failure');
    assert.match(error.detail ?? '', /No such file or directory/);
    assert.match(error.message, /before start-up/);
    assert.equal(child.died, false);
    assert.equal(child.closed, true);
  });

  test('a binary that cannot be spawned is a failure of kind spawn', async () => {
    const child = new FfmpegProcess({
      ffmpegPath: '/nonexistent/ffmpeg',
      args: ENDLESS,
      logger,
      orphanGuard: 'none',
    });
    const [error] = await waitForEvent<[FfmpegExitError]>(child, '@failure', 5000);
    assert.equal(error.kind, 'spawn');
    assert.match(error.message, /ENOENT/);
  });

  test('an ffmpeg killed after start-up died (died, then close), with the signal', async () => {
    const child = ffmpeg();
    await waitForEvent(child, 'started', 10_000);
    const events: string[] = [];
    child.on('exit', () => events.push('exit'));
    child.on('close', () => events.push('close'));
    child.on('died', () => events.push('died'));
    const died = waitForEvent<[FfmpegExitError]>(child, 'died', 5000);
    events.push('kill');
    process.kill(child.pid!, 'SIGKILL');
    const [error] = await died;
    assert.equal(error.kind, 'died');
    assert.equal(error.signal, 'SIGKILL');
    assert.equal(child.died, true);
    assert.equal(child.closed, true);
    assert.deepEqual(events, ['kill', 'exit', 'died', 'close']);
  });

  test('a started ffmpeg that stops reporting progress is stopped and reported as stalled', async () => {
    const child = ffmpeg({ stallTimeoutMs: 600, killGraceMs: 300, statsPeriodMs: 100 });
    await waitForEvent(child, 'started', 10_000);
    process.kill(child.pid!, 'SIGSTOP'); // frozen: no progress, and SIGTERM waits; SIGKILL ends it
    const [error] = await waitForEvent<[FfmpegExitError]>(child, 'died', 5000);
    assert.equal(error.kind, 'stalled');
    assert.equal(error.signal, 'SIGKILL');
  });

  test('the stream key (a secret) never reaches the error message', async () => {
    const secret = 'sk-very-secret-key';
    const child = ffmpeg({
      args: [
        '-f',
        'lavfi',
        '-i',
        'testsrc2=size=160x120',
        '-t',
        '1',
        '-f',
        'flv',
        `rtmp://127.0.0.1:1/live/${secret}`,
      ],
      secrets: [secret],
    });
    const [error] = await waitForEvent<[FfmpegExitError]>(child, '@failure', 10_000);
    assert.match(error.message, /Connection refused/);
    assert.match(error.message, /\*\*\*/);
    assert.ok(!error.message.includes(secret));
  });

  for (const guard of ['pdeathsig', 'watchdog'] as const satisfies readonly OrphanGuard[]) {
    test(`ffmpeg exits within seconds when its parent is SIGKILLed (orphan guard ${guard})`, async () => {
      const parent = await startChild(process.execPath, [
        '--import',
        'tsx',
        path.join(here, 'fixtures', 'orphanParent.ts'),
        guard,
      ]);
      try {
        await waitForEvent(parent.child.stdout!, 'data', 15_000, () => /pid=\d+/.test(parent.output()));
        const pid = Number(/pid=(\d+)/.exec(parent.output())?.[1]);
        pids.add(pid);
        assert.ok(isAlive(pid));
        process.kill(parent.pid, 'SIGKILL');
        await parent.exited;
        const ms = await waitForPidGone(pid, 5000);
        console.log(`  ffmpeg ${pid} gone ${ms} ms after its parent (${guard})`);
      } finally {
        await parent.stop();
      }
    });
  }

  test('without a guard, ffmpeg outlives a SIGKILLed parent (stdin EOF does not stop it): why guards exist', async () => {
    const parent = await startChild(process.execPath, [
      '--import',
      'tsx',
      path.join(here, 'fixtures', 'orphanParent.ts'),
      'none',
    ]);
    await waitForEvent(parent.child.stdout!, 'data', 15_000, () => /pid=\d+/.test(parent.output()));
    const pid = Number(/pid=(\d+)/.exec(parent.output())?.[1]);
    pids.add(pid);
    process.kill(parent.pid, 'SIGKILL');
    await parent.exited;
    await assert.rejects(waitForPidGone(pid, 1500), /still alive/);
    process.kill(pid, 'SIGKILL');
    await waitForPidGone(pid, 5000);
  });
});

describe('FfmpegSupervisor', () => {
  test('restarts a dead ffmpeg after the backoff while open, and not after close()', async () => {
    const supervisor = new FfmpegSupervisor({
      logger,
      initialDelayMs: 100,
      spawn: () => ffmpeg(),
    });
    try {
      const [first] = await waitForEvent<[FfmpegProcess]>(supervisor, 'started', 10_000);
      const retrying = waitForEvent<[FfmpegExitError, number]>(supervisor, 'retrying', 5000);
      const respawned = waitForEvent<[FfmpegProcess, number]>(supervisor, 'spawned', 5000);
      process.kill(first.pid!, 'SIGKILL');
      const [error, delayMs] = await retrying;
      assert.equal(error.kind, 'died');
      assert.equal(delayMs, 100);
      const [second, attempt] = await respawned;
      assert.equal(attempt, 2);
      assert.notEqual(second.pid, first.pid);
      await waitForEvent(supervisor, 'started', 10_000);

      let spawned = 0;
      supervisor.on('spawned', () => (spawned += 1));
      supervisor.close();
      supervisor.close();
      await supervisor.whenStopped();
      assert.equal(second.died, false);
      // the restart delay has long passed: nothing was spawned after close
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(spawned, 0);
      assert.equal(supervisor.current, second);
      assert.equal(isAlive(second.pid!), false);
    } finally {
      supervisor.close();
      await supervisor.whenStopped();
    }
  });

  test('backs off exponentially on failures in a row and gives up after maxConsecutiveFailures', async () => {
    const supervisor = new FfmpegSupervisor({
      logger,
      initialDelayMs: 20,
      factor: 2,
      maxDelayMs: 50,
      maxConsecutiveFailures: 4,
      spawn: () => ffmpeg({ args: ['-i', '/nonexistent/input.sdp', '-f', 'null', '-'] }),
    });
    const delays: number[] = [];
    supervisor.on('retrying', (_error, delayMs) => delays.push(delayMs));
    const [error] = await waitForEvent<[FfmpegExitError]>(supervisor, 'failed', 20_000);
    assert.equal(error.kind, 'failure');
    assert.deepEqual(delays, [20, 40, 50]);
    assert.equal(supervisor.closed, true);
  });
});

describe('checkFfmpegCapabilities', () => {
  test('accepts the system ffmpeg and says which orphan guard applies', async () => {
    const caps = await checkFfmpegCapabilities(ffmpegPath);
    assert.match(caps.version, /^\d+\.\d+/);
    assert.equal(caps.orphanGuard, process.platform === 'linux' ? 'pdeathsig' : 'watchdog');
  });

  test('a missing binary is a clear error', async () => {
    await assert.rejects(checkFfmpegCapabilities('/nonexistent/ffmpeg'), (err: unknown) => {
      assert.ok(err instanceof FfmpegCapabilityError);
      assert.deepEqual(err.missing, ['binary']);
      assert.match(err.message, /FFMPEG_PATH/);
      return true;
    });
  });

  test('a build without the dash muxer, aac or opus lists each lack', async () => {
    const dir = await tempDir('theia-fake-ffmpeg-');
    try {
      // answers every query like ffmpeg, but with only the flv muxer and no codecs
      const fake = path.join(dir.dir, 'ffmpeg');
      await writeFile(
        fake,
        [
          '#!/bin/sh',
          'case "$2" in',
          '  -version) echo "ffmpeg version 9.9-fake" ;;',
          '  -muxers) echo "  E flv             FLV (Flash Video)" ;;',
          '  -demuxers) printf " D  rtp  RTP input\\n D  sdp  SDP\\n" ;;',
          '  -protocols) printf "Input:\\n  file\\n  udp\\n  rtp\\n  rtmp\\n" ;;',
          '  -h) echo "  -flvflags <flags>"; echo "     no_duration_filesize  x" ;;',
          'esac',
          '',
        ].join('\n'),
      );
      await chmod(fake, 0o755);
      await assert.rejects(checkFfmpegCapabilities(fake), (err: unknown) => {
        assert.ok(err instanceof FfmpegCapabilityError);
        for (const item of ['muxer dash', 'encoder aac', 'decoder opus (or libopus)', 'dash option ldash']) {
          assert.ok(err.missing.includes(item), `${item} in ${err.missing.join(', ')}`);
        }
        assert.ok(!err.missing.includes('muxer flv'));
        assert.match(err.message, /9\.9-fake/);
        return true;
      });
    } finally {
      await dir.remove();
    }
  });
});

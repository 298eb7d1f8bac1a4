/**
 * RTMP push with real ffmpeg and a real RTMP server (node-media-server, started by the test on a
 * free port): the relayed stream holds H.264 + AAC; stopping the server makes the destination
 * retry and restarting it brings the push back; a destination that refuses never stops another
 * one nor DASH, which keeps producing segments throughout. Nothing is left running.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { DashEgress, type DashState } from '../../src/egress/DashEgress.js';
import { RtmpPush, parseRtmpUrl, type RtmpPushState } from '../../src/egress/RtmpPush.js';
import { RtpPortPool, type RtpPortLease } from '../../src/egress/RtpPortPool.js';
import { writeEgressSdp } from '../../src/egress/sdp.js';
import { createLogger } from '../../src/logger.js';
import { tempDir } from '../support/tempDir.js';
import { isAlive, waitForEvent, waitForPidGone, type TestChild } from './fixtures/processes.js';
import { freeTcpPort, startRtmpServer } from './fixtures/rtmpServer.js';
import { startRtpSource } from './fixtures/rtpSource.js';

const ffmpegPath = process.env.FFMPEG_PATH ?? 'ffmpeg';
const ffprobePath = process.env.FFPROBE_PATH ?? 'ffprobe';
const logger = createLogger('test-egress-rtmp');
const run = promisify(execFile);

function isState(name: RtmpPushState['state']) {
  return (state: RtmpPushState): boolean => state.state === name;
}

describe('parseRtmpUrl', () => {
  test('keeps the stream key out of what may be shown, and accepts only rtmp:// and rtmps://', () => {
    assert.deepEqual(parseRtmpUrl('rtmp://a.rtmp.youtube.com/live2/abcd-efgh'), {
      redacted: 'rtmp://a.rtmp.youtube.com/live2/***',
      secret: 'abcd-efgh',
    });
    assert.equal(parseRtmpUrl('rtmps://live.example:443/app/key?token=1').secret, 'key?token=1');
    assert.throws(() => parseRtmpUrl('http://example.com/live/key'), /rtmp:\/\/ or rtmps:\/\//);
    assert.throws(() => parseRtmpUrl('rtmp://example.com/live'), /app and a stream key/);
    assert.throws(() => parseRtmpUrl('not a url'), TypeError);
  });
});

describe('RtmpPush', () => {
  let dir: { dir: string; remove: () => Promise<void> };
  let lease: RtpPortLease;
  let source: TestChild | undefined;
  let server: TestChild | undefined;
  let rtmpPort: number;
  let dash: DashEgress;
  let push: RtmpPush;
  let refused: RtmpPush;
  const pids = new Set<number>();
  const dashStates: DashState['state'][] = [];
  const pushStates: RtmpPushState['state'][] = [];
  let dashSegments = 0;

  before(async () => {
    dir = await tempDir('theia-rtmp-');
    lease = await new RtpPortPool({ min: 46_000, max: 46_999 }).allocate(6);
    const [dv, da, pv, pa, rv, ra] = lease.ports as [number, number, number, number, number, number];
    rtmpPort = await freeTcpPort();
    server = await startRtmpServer(rtmpPort, dir.dir);
    const closedPort = await freeTcpPort(); // nothing listens there: connection refused

    dash = await DashEgress.create({
      sdp: writeEgressSdp({ videoPort: dv, audioPort: da }),
      outputDir: path.join(dir.dir, 'dash'),
      utcTimingUrl: 'http://127.0.0.1:8080/api/time',
      logger,
      ffmpegPath,
    });
    const track = (egress: DashEgress | RtmpPush): void => {
      // at once after create(): the first ffmpeg is spawned on the next turn of the event loop
      egress.on('spawned', (pid) => pid !== undefined && pids.add(pid));
    };
    track(dash);
    dash.on('state', (s) => dashStates.push(s.state));
    dash.on('segment', () => (dashSegments += 1));
    const restart = { initialDelayMs: 200, maxDelayMs: 800 };
    push = await RtmpPush.create({
      url: `rtmp://127.0.0.1:${rtmpPort}/live/secret-key`,
      sdp: writeEgressSdp({ videoPort: pv, audioPort: pa }),
      logger,
      ffmpegPath,
      restart,
    });
    track(push);
    push.on('state', (s) => pushStates.push(s.state));
    const pushSpawned = waitForEvent(push, 'spawned', 5000);
    refused = await RtmpPush.create({
      url: `rtmp://127.0.0.1:${closedPort}/live/other-key`,
      sdp: writeEgressSdp({ videoPort: rv, audioPort: ra }),
      logger,
      ffmpegPath,
      restart,
    });
    track(refused);
    await pushSpawned;
    source = await startRtpSource(
      [
        { videoPort: dv, audioPort: da },
        { videoPort: pv, audioPort: pa },
        { videoPort: rv, audioPort: ra },
      ],
      ffmpegPath,
    );
  });

  after(async () => {
    for (const egress of [push, refused, dash]) egress?.close();
    for (const egress of [push, refused, dash]) await egress?.whenStopped();
    await source?.stop();
    await server?.stop();
    lease?.release();
    for (const pid of pids) await waitForPidGone(pid, 5000);
    for (const child of [source, server]) if (child) assert.equal(isAlive(child.pid), false);
    await dir?.remove();
  });

  test('goes live, and the RTMP server relays H.264 and AAC', async () => {
    if (push.state.state !== 'live') await waitForEvent(push, 'state', 20_000, isState('live'));
    assert.equal(push.redactedUrl, `rtmp://127.0.0.1:${rtmpPort}/live/***`);
    const { stdout } = await run(ffprobePath, [
      '-v',
      'error',
      '-rw_timeout',
      '10000000',
      '-show_entries',
      'stream=codec_type,codec_name',
      '-of',
      'csv=p=0',
      `rtmp://127.0.0.1:${rtmpPort}/live/secret-key`,
    ]);
    const streams = [...new Set(stdout.split('\n').filter((l) => l.trim() !== ''))].sort();
    assert.deepEqual(streams, ['aac,audio', 'h264,video']);
  });

  test('a destination that refuses retries on its own, with a reason', async () => {
    const [state] =
      refused.state.state === 'retrying'
        ? [refused.state]
        : await waitForEvent<[RtmpPushState]>(refused, 'state', 10_000, isState('retrying'));
    assert.match(state.state === 'retrying' ? state.reason : '', /Connection refused/);
    assert.equal(refused.closed, false);
    assert.equal(push.state.state, 'live', 'the other destination is not affected');
  });

  test('retries while the server is down, comes back live when it returns, and DASH never stops', async () => {
    const segmentsBefore = dashSegments;
    const retrying = waitForEvent<[RtmpPushState]>(push, 'state', 15_000, isState('retrying'));
    server!.child.kill('SIGKILL');
    await server!.exited;
    const [state] = await retrying;
    assert.ok(state.state === 'retrying' && state.reason.length > 0);
    assert.ok(
      !(state.state === 'retrying' && state.reason.includes('secret-key')),
      'no stream key in the reason',
    );

    // while the server is away: at least one more failed attempt (connection refused)
    await waitForEvent(
      push,
      'state',
      10_000,
      (s: RtmpPushState) => s.state === 'retrying' && /refused/i.test(s.reason),
    );
    const segmentsWhileDown = dashSegments;
    assert.ok(segmentsWhileDown > segmentsBefore, 'DASH segments kept coming while RTMP was down');

    server = await startRtmpServer(rtmpPort, dir.dir);
    await waitForEvent(push, 'state', 20_000, isState('live'));
    await waitForEvent(dash, 'segment', 5000);

    assert.deepEqual(
      dashStates.filter((s) => s !== 'starting' && s !== 'ready'),
      [],
      'DASH never restarted',
    );
    assert.ok(refused.state.state === 'retrying' || refused.state.state === 'connecting');
    assert.ok(pushStates.includes('retrying') && pushStates.at(-1) === 'live');
  });

  test('close() stops every push for good', async () => {
    const running = [push.pid, refused.pid].filter((pid): pid is number => pid !== undefined);
    push.close();
    refused.close();
    assert.equal(push.state.state, 'closed');
    await push.whenStopped();
    await refused.whenStopped();
    for (const pid of running) assert.equal(isAlive(pid), false);
    assert.equal(dash.state.state, 'ready', 'DASH is not affected');
  });
});

/**
 * The DASH/HLS egress with real ffmpeg, fed the RTP that KMS would send (an ffmpeg test source
 * sending H.264 + Opus to the ports of Theia's SDP): the manifest appears and lists video and
 * audio, segments keep coming, a segment holds H.264 and AAC, the HLS playlists are there; a
 * killed ffmpeg is restarted while live and not after stop; nothing is left running.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { DashEgress, type DashState } from '../../src/egress/DashEgress.js';
import { RtpPortPool, isUdpPortFree } from '../../src/egress/RtpPortPool.js';
import { writeEgressSdp } from '../../src/egress/sdp.js';
import { createLogger } from '../../src/logger.js';
import { tempDir } from '../support/tempDir.js';
import { isAlive, waitForEvent, waitForPidGone, type TestChild } from './fixtures/processes.js';
import { startRtpSource } from './fixtures/rtpSource.js';
import { findAll, parseXml } from './fixtures/xml.js';

const ffmpegPath = process.env.FFMPEG_PATH ?? 'ffmpeg';
const ffprobePath = process.env.FFPROBE_PATH ?? 'ffprobe';
const logger = createLogger('test-egress-dash');
const run = promisify(execFile);

async function probe(file: string): Promise<string[]> {
  const { stdout } = await run(ffprobePath, [
    '-v',
    'error',
    '-show_entries',
    'stream=codec_type,codec_name',
    '-of',
    'csv=p=0',
    file,
  ]);
  // a playlist lists its streams once per program too: compare the distinct ones
  return [...new Set(stdout.split('\n').filter((line) => line.trim() !== ''))].sort();
}

describe('writeEgressSdp and RtpPortPool', () => {
  test('the offer asks for H.264 (packetization-mode 1, 42e01f) and Opus/48000/2, recvonly, on 127.0.0.1', () => {
    const sdp = writeEgressSdp({ videoPort: 40002, audioPort: 40004 });
    assert.ok(sdp.endsWith('\r\n'));
    const lines = sdp.trimEnd().split('\r\n');
    assert.equal(lines[0], 'v=0');
    assert.ok(lines.includes('c=IN IP4 127.0.0.1'));
    assert.ok(lines.includes('m=video 40002 RTP/AVP 96'));
    assert.ok(lines.includes('a=rtpmap:96 H264/90000'));
    assert.ok(
      lines.some((l) => /^a=fmtp:96 .*packetization-mode=1/.test(l) && l.includes('profile-level-id=42e01f')),
    );
    assert.ok(lines.includes('a=rtcp:40003'));
    assert.ok(lines.includes('m=audio 40004 RTP/AVP 111'));
    assert.ok(lines.includes('a=rtpmap:111 opus/48000/2'));
    assert.ok(lines.includes('a=rtcp:40005'));
    assert.equal(lines.filter((l) => l === 'a=recvonly').length, 2);
    assert.throws(() => writeEgressSdp({ videoPort: 40001, audioPort: 40004 }), TypeError);
    assert.throws(() => writeEgressSdp({ videoPort: 40002, audioPort: 40002 }), TypeError);
  });

  test('leases even RTP ports with a free RTCP port, skips busy ones, and runs out with a clear error', async () => {
    const base = 47_000 + 2 * Math.floor(Math.random() * 500);
    const busy = createSocket('udp4');
    await new Promise<void>((resolve) => busy.bind(base + 3, '127.0.0.1', resolve)); // RTCP of the 2nd pair
    try {
      const pool = new RtpPortPool({ min: base, max: base + 5 }); // pairs base, +2, +4
      const lease = await pool.allocate(2);
      assert.deepEqual(lease.ports, [base, base + 4]);
      await assert.rejects(pool.allocate(1), /No 1 free UDP port pairs/);
      lease.release();
      lease.release();
      const again = await pool.allocate(1);
      assert.equal(again.ports[0]! % 2, 0);
      again.release();
      assert.equal(pool.held.size, 0);
      assert.equal(await isUdpPortFree(base), true, 'the check released its socket');
    } finally {
      busy.close();
    }
  });
});

describe('DashEgress', () => {
  let dir: { dir: string; remove: () => Promise<void> };
  let egress: DashEgress;
  let source: TestChild;
  let releasePorts: () => void;
  const pids = new Set<number>();
  const states: DashState['state'][] = [];

  before(async () => {
    dir = await tempDir('theia-dash-');
    const pool = new RtpPortPool({ min: 45_000, max: 45_999 });
    const lease = await pool.allocate(2);
    releasePorts = () => lease.release();
    const [videoPort, audioPort] = lease.ports as [number, number];
    egress = await DashEgress.create({
      sdp: writeEgressSdp({ videoPort, audioPort }),
      outputDir: path.join(dir.dir, 'dash', 'room-1'),
      utcTimingUrl: 'http://127.0.0.1:8080/api/time',
      logger,
      ffmpegPath,
      restart: { initialDelayMs: 200 },
      stallTimeoutMs: 5000,
    });
    egress.on('state', (state) => states.push(state.state));
    egress.on('spawned', (pid) => pid !== undefined && pids.add(pid));
    await waitForEvent(egress, 'spawned', 5000);
    const sourceStarted = Date.now();
    source = await startRtpSource([{ videoPort, audioPort }], ffmpegPath);
    await waitForEvent(egress, 'state', 20_000, (s: DashState) => s.state === 'ready');
    console.log(
      `  first DASH segment complete ${Date.now() - sourceStarted} ms after the RTP source started`,
    );
  });

  after(async () => {
    egress?.close();
    await egress?.whenStopped();
    await source?.stop();
    releasePorts?.();
    for (const pid of pids) await waitForPidGone(pid, 5000);
    if (source) assert.equal(isAlive(source.pid), false);
    await dir?.remove();
  });

  test('writes a manifest that parses and lists an H.264 video and an AAC audio adaptation set', async () => {
    const mpd = parseXml(await readFile(egress.manifestPath, 'utf8'));
    assert.equal(mpd.name, 'MPD');
    assert.equal(mpd.attributes.type, 'dynamic');
    const sets = findAll(mpd, 'AdaptationSet');
    assert.deepEqual(sets.map((s) => s.attributes.contentType).sort(), ['audio', 'video']);
    const codecs = findAll(mpd, 'Representation').map((r) => r.attributes.codecs ?? '');
    assert.ok(
      codecs.some((c) => c.startsWith('avc1.')),
      `codecs: ${codecs.join(', ')}`,
    );
    assert.ok(
      codecs.some((c) => c.startsWith('mp4a.40.2')),
      `codecs: ${codecs.join(', ')}`,
    );
    const template = findAll(mpd, 'SegmentTemplate')[0];
    assert.equal(template?.attributes.duration, template?.attributes.timescale, '1 s segments');
    assert.ok(findAll(mpd, 'UTCTiming').some((u) => u.attributes.value === 'http://127.0.0.1:8080/api/time'));
  });

  let firstRun = '';
  test('keeps adding segments, which hold H.264 and AAC', async () => {
    // names carry the ffmpeg run: chunk-stream<n>-<run>-<number>.m4s, init-stream<n>-<run>.m4s
    const [third] = await waitForEvent<[string]>(egress, 'segment', 10_000, (name: string) =>
      /^chunk-stream0-[a-z0-9]+-00003\.m4s$/.test(name),
    );
    const run = third.split('-')[2]!;
    firstRun = run;
    await waitForEvent(
      egress,
      'segment',
      10_000,
      (name: string) => name === `chunk-stream0-${run}-00004.m4s`,
    );
    const dash = path.dirname(egress.manifestPath);
    const joined = path.join(dir.dir, 'joined');
    for (const [stream, codec] of [
      ['0', 'h264,video'],
      ['1', 'aac,audio'],
    ] as const) {
      const init = await readFile(path.join(dash, `init-stream${stream}-${run}.m4s`));
      const media = await readFile(path.join(dash, `chunk-stream${stream}-${run}-00003.m4s`));
      await writeFile(`${joined}${stream}.mp4`, Buffer.concat([init, media]));
      assert.deepEqual(await probe(`${joined}${stream}.mp4`), [codec]);
    }
  });

  test('serves the same segments as HLS (master playlist and media playlists)', async () => {
    const master = await readFile(egress.hlsMasterPath, 'utf8');
    assert.match(master, /^#EXTM3U/);
    assert.match(master, /CODECS="avc1\.[0-9a-f]+,mp4a\.40\.2"/i);
    assert.deepEqual(await probe(egress.hlsMasterPath), ['aac,audio', 'h264,video']);
  });

  test('restarts a SIGKILLed ffmpeg while live, and DASH comes back', async () => {
    const first = egress.pid!;
    process.kill(first, 'SIGKILL');
    const [retrying] = await waitForEvent<[DashState]>(egress, 'state', 5000, (s) => s.state === 'retrying');
    assert.match(retrying.state === 'retrying' ? retrying.reason : '', /SIGKILL/);
    const [pid, attempt] = await waitForEvent<[number, number]>(egress, 'spawned', 5000);
    assert.equal(attempt, 2);
    assert.notEqual(pid, first);
    await waitForEvent(egress, 'state', 20_000, (s: DashState) => s.state === 'ready');
    const [name] = await waitForEvent<[string]>(egress, 'segment', 10_000, (n: string) =>
      n.startsWith('chunk-stream0-'),
    );
    assert.notEqual(name.split('-')[2], firstRun, 'the new run writes names of its own');
  });

  test('stops for good on close(): no restart, ffmpeg gone, files removed', async () => {
    const pid = egress.pid!;
    let spawned = 0;
    egress.on('spawned', () => (spawned += 1));
    egress.close();
    assert.equal(egress.state.state, 'closed');
    await egress.whenStopped();
    assert.equal(isAlive(pid), false);
    assert.equal(existsSync(path.dirname(egress.manifestPath)), false);
    // longer than the restart delay (200 ms): a restart would have happened by now
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(spawned, 0);
    assert.deepEqual(states.slice(-1), ['closed']);
  });
});

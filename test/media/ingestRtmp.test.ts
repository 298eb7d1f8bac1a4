/**
 * OBS over RTMP (issue 9), with real ffmpeg and real RTMP: ffmpeg plays OBS and publishes a test
 * pattern to the app's embedded RTMP server; the bridge's ffmpeg pushes RTP into the fake KMS's
 * RtpEndpoint, which binds the ports it advertises and counts packets per SSRC.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { App } from '../../src/App.js';
import { loadConfig } from '../../src/config.js';
import type { RtmpEndReason, RtmpIngest, RtmpPublish } from '../../src/ingest/RtmpIngest.js';
import type { FfmpegProcess } from '../../src/process/FfmpegProcess.js';
import { FakeKms } from '../support/FakeKms.js';
import { tempDir } from '../support/tempDir.js';
import { isAlive, startChild, waitForEvent, waitForPidGone, type TestChild } from './fixtures/processes.js';

/** Polls a condition no event reports (packet counters of the fake, its object list). */
async function until(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** ffmpeg acting as OBS: 320×240 at 15 fps H.264 baseline + AAC, to the stream key `key`. */
function obs(port: number, key: string): Promise<TestChild> {
  return startChild('ffmpeg', [
    ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-re'],
    ...['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=15'],
    ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'],
    ...['-c:v', 'libx264', '-profile:v', 'baseline', '-preset', 'ultrafast', '-tune', 'zerolatency'],
    ...['-g', '15', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '64k', '-t', '60'],
    ...['-f', 'flv', `rtmp://127.0.0.1:${port}/live/${key}`],
  ]);
}

describe('RTMP ingest (OBS → RTMP → ffmpeg bridge → KMS RtpEndpoint)', () => {
  let fake: FakeKms;
  let app: App;
  let rtmp: RtmpIngest;
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  const children: TestChild[] = [];

  const signUp = async (): Promise<{ id: string; rtmpToken: string }> => {
    const res = await fetch(`${app.url}/api/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: `obs${randomUUID().slice(0, 8)}`, password: 'password123' }),
    });
    const { user, token } = (await res.json()) as { user: { id: string }; token: string };
    const me = await fetch(`${app.url}/api/me`, { headers: { authorization: `Bearer ${token}` } });
    const { rtmpToken } = (await me.json()) as { rtmpToken: string };
    return { id: user.id, rtmpToken };
  };
  const publish = async (key: string): Promise<TestChild> => {
    const child = await obs(rtmp.port, key);
    children.push(child);
    return child;
  };
  const nextLive = (): Promise<[RtmpPublish]> => waitForEvent<[RtmpPublish]>(rtmp, 'live', 20_000);
  const nextEnd = (): Promise<[RtmpPublish, RtmpEndReason]> =>
    waitForEvent<[RtmpPublish, RtmpEndReason]>(rtmp, 'ended', 20_000);
  const received = (endpointId: string, ssrc: number): number =>
    fake.rtpStats(endpointId)?.received.find((s) => s.ssrc === ssrc)?.packets ?? 0;
  const nothingLeft = (): boolean =>
    fake.objects('MediaPipeline').length === 0 && fake.objects('RtpEndpoint').length === 0;

  before(async () => {
    fake = await FakeKms.start({ media: true });
    tmp = await tempDir();
    app = await App.create(
      loadConfig({
        HOST: '127.0.0.1',
        PORT: '0',
        DATA_DIR: tmp.dir,
        KMS_URI: fake.url,
        INSTANCE_ID: `test-${randomUUID().slice(0, 8)}`,
        LOGIN_RATE_LIMIT: '1000',
        DASH_EGRESS: 'off',
        RTMP_INGEST: 'on',
        RTMP_PORT: '0',
        INGEST_IDLE_TIMEOUT_MS: '1500',
        NODE_ENV: 'test',
      }),
    );
    rtmp = app.rtmpIngest!;
  });
  after(async () => {
    await Promise.all(children.map((c) => c.stop()));
    await app.close();
    await fake.stop();
    await tmp.remove();
  });

  test('a publish with a valid stream key goes live, RTP reaches KMS, a second publish is refused, the bridge restarts', async () => {
    const user = await signUp();
    const live = nextLive();
    const first = await publish(user.rtmpToken);
    const [pub] = await live;
    assert.equal(pub.user.id, user.id);
    assert.ok(pub.ingest && app.rooms.verifyLive(pub.ingest.liveId, pub.ingest.liveCode));

    // the offer KMS got describes what ffmpeg sends: PT 96 Opus, PT 103 H.264, its SSRCs
    assert.equal(fake.calls({ method: 'create', type: 'RtpEndpoint' }).length, 1);
    const [offerCall] = fake.calls({ method: 'invoke', operation: 'processOffer' });
    const offer = (offerCall!.params as { operationParams: { offer: string } }).operationParams.offer;
    assert.match(offer, /^m=audio \d+ RTP\/AVP 96\r?$/m);
    assert.match(offer, /^a=rtpmap:96 opus\/48000\/2\r?$/m);
    assert.match(offer, /^m=video \d+ RTP\/AVP 103\r?$/m);
    assert.match(offer, /^a=rtpmap:103 H264\/90000\r?$/m);
    assert.match(offer, new RegExp(`^a=ssrc:${pub.bridge!.sender.videoSsrc} `, 'm'));

    const [endpoint] = fake.objects('RtpEndpoint');
    const { videoSsrc, audioSsrc } = pub.bridge!.sender;
    await until('video and audio RTP reach the RtpEndpoint', () => received(endpoint!.id, videoSsrc) > 20);
    await until('audio too', () => received(endpoint!.id, audioSsrc) > 5);
    const stats = fake.rtpStats(endpoint!.id)!;
    assert.deepEqual(stats.received.map((s) => [s.kind, s.payloadType]).sort(), [
      ['audio', 96],
      ['video', 103],
    ]);

    // the same key again while live: refused, the first goes on
    const rejected = waitForEvent<[string]>(rtmp, 'rejected', 20_000);
    const second = await publish(user.rtmpToken);
    assert.deepEqual((await rejected)[0], 'busy');
    await second.exited;
    assert.equal(rtmp.publishOf(user.id), pub);

    // the bridge dies while OBS still publishes: it comes back, and RTP with it
    const killed = pub.bridge!.process!;
    const respawned = waitForEvent(pub.bridge!, 'spawned', 20_000);
    process.kill(killed.pid!, 'SIGKILL');
    await respawned;
    const before = received(endpoint!.id, videoSsrc);
    await until('RTP flows again', () => received(endpoint!.id, videoSsrc) > before + 20);
    assert.equal(fake.objects('RtpEndpoint').length, 1);

    // OBS stops: the live ends, KMS objects and the bridge's ffmpeg are gone
    const bridgePid = pub.bridge!.process!.pid!;
    const ended = nextEnd();
    await first.stop();
    assert.equal((await ended)[1], 'disconnected');
    assert.equal(app.rooms.verifyLive(pub.ingest.liveId, pub.ingest.liveCode), false);
    await until('every KMS object released', nothingLeft);
    assert.equal(isAlive(bridgePid), false);
  });

  test('an unknown stream key is refused at publish', async () => {
    const rejected = waitForEvent<[string]>(rtmp, 'rejected', 20_000);
    const child = await publish('not-a-stream-key');
    assert.equal((await rejected)[0], 'unknown-key');
    await child.exited;
    assert.notEqual(child.child.exitCode, 0);
    assert.equal(fake.calls({ method: 'create', type: 'RtpEndpoint' }).length, 1); // the first test's
  });

  test('a stream that sends nothing for the idle timeout ends its live and releases everything', async () => {
    const user = await signUp();
    const live = nextLive();
    const child = await publish(user.rtmpToken);
    const [pub] = await live;
    const bridgePid = (
      pub.bridge!.process ?? (await waitForEvent<[FfmpegProcess]>(pub.bridge!, 'spawned', 5000))[0]
    ).pid!;
    const ended = nextEnd();
    process.kill(child.pid, 'SIGSTOP'); // connected, silent
    try {
      assert.equal((await ended)[1], 'idle');
    } finally {
      process.kill(child.pid, 'SIGCONT');
    }
    await until('every KMS object released', nothingLeft);
    await waitForPidGone(bridgePid, 5000);
    await child.exited; // its connection was closed
    assert.equal(rtmp.publishOf(user.id), undefined);
  });
});

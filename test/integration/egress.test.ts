/**
 * The DASH/HLS egress wired to a live, through the real app, ffmpeg and a KMS (the fake, or a real
 * one with KMS_URI): the egress RtpEndpoint gets Theia's SDP offer, is a sink of the program in
 * every state (solo, mixed, solo again), and goes with the live together with its ffmpeg. Media
 * through ffmpeg (segments, manifest, HLS) is proven in test/media/egressDash.test.ts.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { chromeOffer } from '../support/sdp.js';
import { NEEDS_FAKE, startTheia, type Theia } from '../support/theia.js';

/** ffmpeg processes this test process started (directly, or through setpriv which execs it). */
function ffmpegChildren(): number[] {
  try {
    const out = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' });
    return out
      .split('\n')
      .filter((line) => /\bffmpeg\b/.test(line))
      .map((line) => Number(line.trim().split(/\s+/)[0]));
  } catch {
    return []; // ps exits 1 when there is no child at all
  }
}

/** Polls `check` (no event exists for another process's state) for at most `timeoutMs`. */
async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('egress', () => {
  let theia: Theia;
  before(async () => {
    theia = await startTheia({ env: { DASH_EGRESS: 'on', EGRESS_RTP_PORTS: '42000-42099' } });
  });
  after(() => theia.close());

  test('a live sends its program to an RtpEndpoint with Theia’s SDP, through every switch, and stops with the live', async () => {
    const host = await theia.signUp();
    const hostWs = await theia.connect(host.token);
    await hostWs.request('joinRoom', { roomId: host.roomId });
    await hostWs.request('startLive');
    await hostWs.request('publishVideo', { sdpOffer: chromeOffer });
    await hostWs.request('setCoHosting', { enabled: true });
    const graph = async (): Promise<Record<string, number>> =>
      (await theia.inspector.graph(`${theia.pipelinePrefix}${host.roomId}/`)).connections;

    await until(
      'the program feeds the egress endpoint',
      async () => (await graph())['WebRtcEndpoint→RtpEndpoint'] === 1,
    );
    await until('one ffmpeg reads the egress RTP', () => ffmpegChildren().length === 1);

    if (theia.fake) {
      const offers = theia.fake
        .calls({ method: 'invoke', operation: 'processOffer' })
        .filter((c) => (c.params as { object: string }).object.endsWith('_kurento.RtpEndpoint'));
      assert.equal(offers.length, 1);
      const sdp = (offers[0]!.params as { operationParams: { offer: string } }).operationParams.offer;
      assert.match(sdp, /^m=video (4200\d|420\d\d) RTP\/AVP 96\r$/m);
      assert.match(sdp, /^a=rtpmap:96 H264\/90000\r$/m);
      assert.match(sdp, /^m=audio \d+ RTP\/AVP 111\r$/m);
      assert.match(sdp, /^a=rtpmap:111 opus\/48000\/2\r$/m);
      assert.match(sdp, /^c=IN IP4 127\.0\.0\.1\r$/m);
      assert.match(sdp, /^a=recvonly\r$/m);
    }

    // a guest comes on stage: the egress follows the program to the mix, and back
    const guest = await theia.signUp();
    const guestWs = await theia.connect(guest.token);
    await guestWs.request('joinRoom', { roomId: host.roomId });
    await guestWs.request('requestCoHost');
    await hostWs.request('acceptCoHost', { userId: guest.user.id });
    await guestWs.request('publishVideo', { sdpOffer: chromeOffer });
    await until('the mix feeds the egress endpoint', async () => {
      const c = await graph();
      return c['HubPort→RtpEndpoint'] === 1 && c['WebRtcEndpoint→RtpEndpoint'] === undefined;
    });
    await guestWs.request('endCoHost');
    await until('the host alone feeds it again', async () => {
      const c = await graph();
      return c['WebRtcEndpoint→RtpEndpoint'] === 1 && c['HubPort→RtpEndpoint'] === undefined;
    });

    await hostWs.request('stopLive');
    await until(
      'no pipeline left',
      async () => (await theia.inspector.pipelines(`${theia.pipelinePrefix}${host.roomId}/`)).length === 0,
    );
    await until('no ffmpeg left', () => ffmpegChildren().length === 0);
  });

  test(
    'a media server that refuses the egress endpoint leaves the live running, without DASH and without ffmpeg',
    { skip: NEEDS_FAKE },
    async () => {
      const host = await theia.signUp();
      const hostWs = await theia.connect(host.token);
      await hostWs.request('joinRoom', { roomId: host.roomId });
      theia.fake!.failNext(
        { method: 'create', type: 'RtpEndpoint' },
        {
          code: 40108,
          message: "Factory 'RtpEndpoint' not found",
          data: { type: 'MEDIA_OBJECT_NOT_AVAILABLE' },
        },
      );
      await hostWs.request('startLive');
      await hostWs.request('publishVideo', { sdpOffer: chromeOffer });
      const room = (await theia.api(`/api/rooms/${host.roomId}`)).body.room as {
        live: boolean;
        mpdUrl: string | null;
      };
      assert.equal(room.live, true);
      assert.equal(room.mpdUrl, null);
      assert.equal(ffmpegChildren().length, 0);
      await hostWs.request('stopLive');
    },
  );
});

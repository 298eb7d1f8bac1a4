/**
 * Lives fed from outside a browser (issue 9's rooms side): a socketless host goes live in its
 * owner's room, sends plain RTP (as the RTMP bridge's ffmpeg or a PC client would) into a KMS
 * RtpEndpoint that becomes the program, and ends with the stream or from a browser.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { InvalidStateError } from '../../src/errors.js';
import { chromeRecvOnlyOffer, ffmpegRtpOffer } from '../support/sdp.js';
import { startTheia, type Theia } from '../support/theia.js';

/** Polls KMS's own view (no event exists for it) for at most `timeoutMs`. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('ingest lives', () => {
  let theia: Theia;
  before(async () => {
    theia = await startTheia();
  });
  after(() => theia.close());

  test('an RTP contribution becomes the program of the owner’s room, and its end ends the live', async () => {
    const owner = await theia.signUp();
    const ingest = await theia.app.rooms.startIngest(owner.user.id, 'rtp');
    assert.equal(theia.app.rooms.verifyLive(ingest.liveId, ingest.liveCode), true);
    await assert.rejects(theia.app.rooms.startIngest(owner.user.id, 'rtmp'), InvalidStateError);

    const viewer = await theia.connect();
    const joined = await viewer.request<{ room: { live: boolean; liveId: string } }>('joinRoom', {
      roomId: owner.roomId,
    });
    assert.deepEqual([joined.room.live, joined.room.liveId], [true, ingest.liveId]);
    await viewer.request('receiveVideo', { sdpOffer: chromeRecvOnlyOffer });

    const answer = await ingest.publishRtp(ffmpegRtpOffer);
    assert.match(answer, /^m=video \d+ RTP\/AVP/m);
    const graph = async (): Promise<Record<string, number>> =>
      (await theia.inspector.graph(`${theia.pipelinePrefix}${owner.roomId}/`)).connections;
    await until(
      'the RtpEndpoint feeds the viewer',
      async () => (await graph())['RtpEndpoint→WebRtcEndpoint'] === 1,
    );

    const ended = once(ingest, 'ended', { signal: AbortSignal.timeout(5000) });
    const liveEnded = viewer.next('liveEnded');
    await theia.app.rooms.stopIngest(ingest);
    assert.deepEqual(await ended, ['stopped']);
    assert.equal((await liveEnded).liveId, ingest.liveId);
    await until(
      'nothing left',
      async () => (await theia.inspector.pipelines(`${theia.pipelinePrefix}${owner.roomId}/`)).length === 0,
    );
  });

  test('the owner stopping the live from a browser ends the ingest too', async () => {
    const owner = await theia.signUp();
    const ingest = await theia.app.rooms.startIngest(owner.user.id, 'whip');
    const hostWs = await theia.connect(owner.token);
    const { role } = await hostWs.request<{ role: string }>('joinRoom', { roomId: owner.roomId });
    assert.equal(role, 'host');
    const ended = once(ingest, 'ended', { signal: AbortSignal.timeout(5000) });
    await hostWs.request('stopLive');
    assert.deepEqual(await ended, ['stopped']);
    await theia.app.rooms.stopIngest(ingest); // the stream's end arrives afterwards: harmless
    await until(
      'nothing left',
      async () => (await theia.inspector.pipelines(`${theia.pipelinePrefix}${owner.roomId}/`)).length === 0,
    );
  });
});

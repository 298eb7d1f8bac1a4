/**
 * A host whose connection drops (issue 10): the live waits HOST_GRACE_MS for it. Viewers are told
 * and keep their connections; a host back in time goes on under the same LiveId and its new camera
 * is switched in for the viewers without them renegotiating; not back in time, the live ends.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { chromeOffer } from '../support/sdp.js';
import { startTheia, type Theia } from '../support/theia.js';

/** Polls KMS's own view (no event exists for it) for at most `timeoutMs`. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('a host whose connection drops', () => {
  let theia: Theia;
  before(async () => {
    theia = await startTheia({ env: { HOST_GRACE_MS: '1500' } });
  });
  after(() => theia.close());

  const connections = async (roomId: string): Promise<Record<string, number>> =>
    (await theia.inspector.graph(`${theia.pipelinePrefix}${roomId}/`)).connections;

  test('comes back within the grace period: same LiveId, viewers told, never ended, new camera switched in', async () => {
    const { host, hostWs, viewer, liveId } = await theia.goLive();
    const away = viewer.next('hostAway');
    await hostWs.close(); // the Wi-Fi blip
    assert.deepEqual(await away, { roomId: host.roomId, liveId, graceMs: 1500 });
    // the viewer keeps its connection to the host's (silent) feed meanwhile
    assert.equal((await connections(host.roomId))['WebRtcEndpoint→WebRtcEndpoint'], 1);

    const back = await theia.connect(host.token);
    const hostBack = viewer.next('hostBack');
    const joined = await back.request<{ role: string; publishing: boolean; room: { liveId: string } }>(
      'joinRoom',
      { roomId: host.roomId },
    );
    assert.deepEqual([joined.role, joined.publishing, joined.room.liveId], ['host', true, liveId]);
    assert.deepEqual(await hostBack, { roomId: host.roomId, liveId });
    await back.request('publishVideo', { sdpOffer: chromeOffer });
    await until('the viewer is fed by the new camera, the old endpoint gone', async () => {
      const g = await theia.inspector.graph(`${theia.pipelinePrefix}${host.roomId}/`);
      return g.elements.WebRtcEndpoint === 2 && g.connections['WebRtcEndpoint→WebRtcEndpoint'] === 1;
    });
    // past the grace period nothing ends it
    await new Promise((r) => setTimeout(r, 1700));
    assert.deepEqual(viewer.all('liveEnded'), []);
    assert.equal(
      ((await theia.api(`/api/rooms/${host.roomId}`)).body.room as { liveId: string }).liveId,
      liveId,
    );
    await back.request('stopLive');
    assert.equal((await viewer.next('liveEnded')).reason, 'stopped');
  });

  test('not back in time: the live ends with hostLeft and nothing is left in KMS', async () => {
    const { host, hostWs, viewer } = await theia.goLive();
    await hostWs.close();
    await viewer.next('hostAway');
    assert.equal((await viewer.next('liveEnded', () => true, 5000)).reason, 'hostLeft');
    await until(
      'nothing left',
      async () => (await theia.inspector.pipelines(`${theia.pipelinePrefix}${host.roomId}/`)).length === 0,
    );
  });

  test('a host who leaves on purpose ends the live at once; another window of the owner does not resume it', async () => {
    const { host, hostWs, viewer } = await theia.goLive();
    const other = await theia.connect(host.token);
    const joined = await other.request<{ publishing: boolean }>('joinRoom', { roomId: host.roomId });
    assert.equal(joined.publishing, false, 'the live is carried by the first window');
    await hostWs.request('leaveRoom');
    assert.equal((await viewer.next('liveEnded')).reason, 'hostLeft');
    assert.deepEqual(viewer.all('hostAway'), []);
  });
});

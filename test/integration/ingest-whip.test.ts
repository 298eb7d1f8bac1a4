/**
 * WHIP (RFC 9725, issue 9): a real WebRTC offer (werift) with the stream key as bearer goes live
 * in the owner's room; DELETE of its Location ends the live. Through the real app (`/whip`).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RTCPeerConnection } from 'werift';
import { startTheia, type Theia } from '../support/theia.js';

/** A sendonly audio+video offer from werift, candidates gathered (no trickle, as WHIP clients do). */
async function realOffer(): Promise<{ sdp: string; close: () => Promise<void> }> {
  const pc = new RTCPeerConnection({});
  pc.addTransceiver('audio', { direction: 'sendonly' });
  pc.addTransceiver('video', { direction: 'sendonly' });
  await pc.setLocalDescription(await pc.createOffer());
  if (pc.iceGatheringState !== 'complete') {
    await new Promise<void>((resolve) =>
      pc.iceGatheringStateChange.subscribe((state) => {
        if (state === 'complete') resolve();
      }),
    );
  }
  return { sdp: pc.localDescription!.sdp, close: () => pc.close() };
}

describe('WHIP ingest', () => {
  let theia: Theia;
  let base: string;

  before(async () => {
    theia = await startTheia();
    base = theia.url;
  });
  after(() => theia.close());

  const whip = (path: string, key: string | undefined, sdp?: string, method = 'POST'): Promise<Response> =>
    fetch(base + path, {
      method,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(sdp ? { 'content-type': 'application/sdp' } : {}),
      },
      body: sdp,
    });

  test('a valid offer gets 201, an SDP answer and a Location; a second session is 409; DELETE ends the live', async () => {
    const owner = await theia.signUp();
    const { rtmpToken } = (await theia.api('/api/me', { token: owner.token })).body as { rtmpToken: string };
    const offer = await realOffer();
    try {
      const res = await whip(`/whip/${owner.roomId}`, rtmpToken, offer.sdp);
      assert.equal(res.status, 201);
      assert.match(res.headers.get('content-type') ?? '', /^application\/sdp/);
      const answer = await res.text();
      assert.match(answer, /^v=0/);
      assert.match(answer, /^m=video /m);
      const location = res.headers.get('location')!;
      assert.match(location, new RegExp(`^/whip/${owner.roomId}/[0-9a-f-]{36}$`));

      const viewer = await theia.connect();
      const joined = await viewer.request<{ room: { live: boolean; liveId: string } }>('joinRoom', {
        roomId: owner.roomId,
      });
      assert.equal(joined.room.live, true);

      const second = await whip(`/whip/${owner.roomId}`, rtmpToken, offer.sdp);
      assert.equal(second.status, 409);

      const liveEnded = viewer.next('liveEnded');
      assert.equal((await whip(location, rtmpToken, undefined, 'DELETE')).status, 200);
      assert.equal((await liveEnded).liveId, joined.room.liveId);
      assert.equal((await whip(location, rtmpToken, undefined, 'DELETE')).status, 404);
    } finally {
      await offer.close();
    }
  });

  test('a bad stream key is 401, another user’s room 403, a non-SDP body 415', async () => {
    const owner = await theia.signUp();
    const other = await theia.signUp();
    const { rtmpToken } = (await theia.api('/api/me', { token: owner.token })).body as { rtmpToken: string };
    const sdp = 'v=0\r\n';
    const bad = await whip(`/whip/${owner.roomId}`, 'not-a-key', sdp);
    assert.equal(bad.status, 401);
    assert.equal(bad.headers.get('www-authenticate'), 'Bearer');
    assert.equal((await whip(`/whip/${owner.roomId}`, undefined, sdp)).status, 401);
    assert.equal((await whip(`/whip/${other.roomId}`, rtmpToken, sdp)).status, 403);
    const json = await fetch(`${base}/whip/${owner.roomId}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${rtmpToken}`, 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(json.status, 415);
  });
});

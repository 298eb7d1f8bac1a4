/**
 * RTP publish, scheme 2 (issue 9): a PC client starts an RTP live with its login token, exchanges
 * liveId/liveCode for the KMS RtpEndpoint's ports and SSRCs, and stops it; invalid, ended and
 * reused liveId/liveCode are refused. Also the stream key's regeneration. Through the real app.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTheia, type Theia } from '../support/theia.js';

describe('RTP publish (scheme 2) and stream keys', () => {
  let theia: Theia;
  let base: string;

  before(async () => {
    theia = await startTheia();
    base = theia.url;
  });
  after(() => theia.close());

  const call = async (path: string, init: { method?: string; body?: unknown; token?: string } = {}) => {
    const res = await fetch(base + path, {
      method: init.method ?? 'POST',
      headers: {
        'content-type': 'application/json',
        ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };

  test('start, publish (ports, SSRCs, answer), reuse refused, owner-only DELETE, then expired', async () => {
    const owner = await theia.signUp();
    const other = await theia.signUp();
    assert.equal((await call('/api/rtp/lives')).status, 401);
    const started = await call('/api/rtp/lives', { token: owner.token });
    assert.equal(started.status, 201);
    const { liveId, liveCode } = started.body as { liveId: string; liveCode: string };
    assert.equal((await call('/api/rtp/lives', { token: owner.token })).status, 409);

    assert.equal((await call('/api/rtp/publish', { body: { liveId, liveCode: 'wrong' } })).status, 403);
    assert.equal((await call('/api/rtp/publish', { body: { liveId: 'nope', liveCode } })).status, 403);
    assert.equal((await call('/api/rtp/publish', { body: { liveId } })).status, 400);

    const published = await call('/api/rtp/publish', { body: { liveId, liveCode } });
    assert.equal(published.status, 200);
    const p = published.body;
    assert.equal(p.port, p.ports.video);
    assert.ok(p.ports.audio > 0 && p.ports.video > 0);
    assert.ok(p.ssrc.audio > 0 && p.ssrc.video > 0 && p.ssrc.audio !== p.ssrc.video);
    assert.deepEqual(p.payloadTypes, { audio: 96, video: 103 });
    assert.match(p.sdpAnswer, new RegExp(`^m=video ${p.ports.video} RTP/AVP 103`, 'm'));

    assert.equal((await call('/api/rtp/publish', { body: { liveId, liveCode } })).status, 409);
    assert.equal((await call(`/api/lives/${liveId}`, { method: 'DELETE', token: other.token })).status, 403);
    assert.equal((await call(`/api/lives/${liveId}`, { method: 'DELETE', token: owner.token })).status, 204);
    assert.equal(theia.app.rooms.verifyLive(liveId, liveCode), false);
    assert.equal((await call('/api/rtp/publish', { body: { liveId, liveCode } })).status, 403); // expired
    assert.equal((await call(`/api/lives/${liveId}`, { method: 'DELETE', token: owner.token })).status, 404);
  });

  test('regenerating the stream key revokes the old one', async () => {
    const owner = await theia.signUp();
    const before = (await theia.api('/api/me', { token: owner.token })).body.rtmpToken as string;
    const res = await call('/api/me/rtmp-token', { token: owner.token });
    assert.equal(res.status, 200);
    assert.notEqual(res.body.rtmpToken, before);
    assert.equal(theia.app.store.userByRtmpToken(before), undefined);
    assert.equal(theia.app.store.userByRtmpToken(res.body.rtmpToken)?.id, owner.user.id);
    assert.equal((await theia.api('/api/me', { token: owner.token })).body.rtmpToken, res.body.rtmpToken);
  });
});

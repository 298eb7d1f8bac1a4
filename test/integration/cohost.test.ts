/**
 * Co-hosting (连线/连麦) through the real app and a KMS (the fake, or a real one with KMS_URI): the
 * co-host state machine over signalling, the exact KMS graph after each transition (as KMS itself
 * reports it: element types and connections), who may call what, and the races of a live stage.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ErrorCode } from '../../src/protocol/index.js';
import type { RpcClient, RpcError } from '../support/RpcClient.js';
import { chromeOffer, chromeRecvOnlyOffer } from '../support/sdp.js';
import { NEEDS_FAKE, startTheia, type Theia } from '../support/theia.js';

type User = Awaited<ReturnType<Theia['signUp']>>;
type Graph = Awaited<ReturnType<Theia['inspector']['graph']>>;

/**
 * Polls `read` until it deep-equals `expected` (KMS state has no event to wait for; a real KMS may
 * list a released element's connections for a moment), then asserts it.
 */
async function settles<T>(
  what: string,
  read: () => Promise<T>,
  expected: T,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  // an element released while the graph is read answers 40101: read again
  const attempt = (): Promise<T | Error> =>
    read().catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
  let actual = await attempt();
  while (!isDeepStrictEqual(actual, expected) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    actual = await attempt();
  }
  if (actual instanceof Error) throw actual;
  assert.deepEqual(actual, expected, what);
}

function isDeepStrictEqual(a: unknown, b: unknown): boolean {
  try {
    assert.deepStrictEqual(a, b);
    return true;
  } catch {
    return false;
  }
}

/** Expects `call` to fail with JSON-RPC error `code`. */
async function refused(call: Promise<unknown>, code: ErrorCode, what: string): Promise<void> {
  await assert.rejects(call, (e: RpcError) => {
    assert.equal(e.code, code, `${what}: got ${e.code} ${e.message}`);
    assert.ok(e.message.length > 10, `${what}: the message says what to do`);
    return true;
  });
}

describe('co-hosting', () => {
  let theia: Theia;
  before(async () => {
    theia = await startTheia();
  });
  after(() => theia.close());

  /** The graph of the live(s) of room `roomId` (pipelines are named `theia/<instance>/<roomId>/<liveId>`). */
  const graphOf = (roomId: string) => (): Promise<Omit<Graph, 'edges'>> =>
    theia.inspector
      .graph(`${theia.pipelinePrefix}${roomId}/`)
      .then(({ elements, connections }) => ({ elements, connections }));
  /** No pipeline of room `roomId` is left in KMS. */
  const nothingLeft = (roomId: string): Promise<void> =>
    settles('nothing left in KMS', () => theia.inspector.pipelines(`${theia.pipelinePrefix}${roomId}/`), []);

  /** A host live and publishing, with co-hosting open, and a logged-in viewer watching. */
  async function liveRoom(): Promise<{ host: User; hostWs: RpcClient; hostLiveId: string }> {
    const host = await theia.signUp();
    const hostWs = await theia.connect(host.token);
    await hostWs.request('joinRoom', { roomId: host.roomId });
    const { liveId } = await hostWs.request<{ liveId: string }>('startLive');
    await hostWs.request('publishVideo', { sdpOffer: chromeOffer });
    await hostWs.request('setCoHosting', { enabled: true });
    return { host, hostWs, hostLiveId: liveId };
  }

  /** A logged-in user in `roomId`. */
  async function member(roomId: string): Promise<{ user: User; ws: RpcClient }> {
    const user = await theia.signUp();
    const ws = await theia.connect(user.token);
    await ws.request('joinRoom', { roomId });
    return { user, ws };
  }

  test('a full cycle: request, accept, see each other, both layouts, face detection, leave, a second guest, stop — each graph exact, nothing left', async () => {
    const { host, hostWs, hostLiveId } = await liveRoom();
    const graph = graphOf(host.roomId);
    const viewer = await theia.connect();
    await viewer.request('joinRoom', { roomId: host.roomId });
    await viewer.request('receiveVideo', { sdpOffer: chromeRecvOnlyOffer });
    await settles('solo: the host feeds the viewer', graph, {
      elements: { WebRtcEndpoint: 2 },
      connections: { 'WebRtcEndpoint→WebRtcEndpoint': 1 },
    });

    const guest = await member(host.roomId);
    const requested = hostWs.next('coHostRequested');
    await guest.ws.request('requestCoHost');
    assert.deepEqual(
      { ...(await requested), requestedAt: 0 },
      { userId: guest.user.user.id, name: guest.user.user.name, requestedAt: 0 },
    );

    const accepted = guest.ws.next('coHostAccepted');
    const onStage = viewer.next('stageChanged', (s) => s.stage.length === 2);
    const result = await hostWs.request<{ userId: string; liveId: string }>('acceptCoHost', {
      userId: guest.user.user.id,
    });
    const forGuest = await accepted;
    assert.equal(forGuest.userId, guest.user.user.id);
    assert.equal(forGuest.liveId, result.liveId);
    assert.equal(forGuest.hostLiveId, hostLiveId);
    assert.ok(forGuest.liveCode, 'the guest gets the LiveCode of its own contribution');
    assert.equal((await hostWs.next('coHostAccepted')).liveCode, undefined, 'the host never sees it');
    const stage = await onStage;
    assert.deepEqual(
      stage.stage.map((m) => [m.userId, m.role, m.liveId]),
      [
        [host.user.id, 'host', hostLiveId],
        [guest.user.user.id, 'guest', result.liveId],
      ],
    );
    assert.equal(stage.layout, 'pip');
    // the guest's LiveId + LiveCode authorise its contribution (the seed's 校验推流授权)
    assert.equal(theia.app.rooms.verifyLive(result.liveId, forGuest.liveCode), true);

    // accepted but not publishing yet: still solo
    await settles('guest accepted, not publishing: still solo', graph, {
      elements: { WebRtcEndpoint: 2 },
      connections: { 'WebRtcEndpoint→WebRtcEndpoint': 1 },
    });
    await guest.ws.request('publishVideo', { sdpOffer: chromeOffer });
    await settles('pip: AlphaBlending mixes host and guest for the viewer', graph, {
      elements: { AlphaBlending: 1, HubPort: 3, WebRtcEndpoint: 3 },
      connections: { 'HubPort→WebRtcEndpoint': 1, 'WebRtcEndpoint→HubPort': 2 },
    });

    // host and guest see each other directly, not through the mixer
    await hostWs.request('receiveVideo', { sdpOffer: chromeRecvOnlyOffer, from: guest.user.user.id });
    await guest.ws.request('receiveVideo', { sdpOffer: chromeRecvOnlyOffer, from: host.user.id });
    const pip = {
      elements: { AlphaBlending: 1, HubPort: 3, WebRtcEndpoint: 5 },
      connections: {
        'HubPort→WebRtcEndpoint': 1,
        'WebRtcEndpoint→HubPort': 2,
        'WebRtcEndpoint→WebRtcEndpoint': 2,
      },
    };
    await settles('stage return: each sees the other', graph, pip);
    // a guest's program connection, opened before and released with stopReceiving, is gone
    await guest.ws.request('receiveVideo', { sdpOffer: chromeRecvOnlyOffer });
    await settles('the guest also watches the program', graph, {
      elements: { ...pip.elements, WebRtcEndpoint: 6 },
      connections: { ...pip.connections, 'HubPort→WebRtcEndpoint': 2 },
    });
    await guest.ws.request('stopReceiving', { endpoint: 'receive' });
    await settles('stopReceiving released it', graph, pip);

    await hostWs.request('setLayout', { layout: 'grid' });
    assert.equal((await viewer.next('stageChanged', (s) => s.layout === 'grid')).stage.length, 2);
    const grid = {
      elements: { Composite: 1, HubPort: 3, WebRtcEndpoint: 5 },
      connections: {
        'HubPort→WebRtcEndpoint': 1,
        'WebRtcEndpoint→HubPort': 2,
        'WebRtcEndpoint→WebRtcEndpoint': 2,
      },
    };
    await settles('grid: a Composite replaces the AlphaBlending', graph, grid);

    await hostWs.request('setFaceDetection', { enabled: true });
    await viewer.next('stageChanged', (s) => s.faceDetection);
    await settles(
      'face detection: a filter behind each stage feed, before the mixer and the other member',
      graph,
      {
        elements: { Composite: 1, FaceOverlayFilter: 2, HubPort: 3, WebRtcEndpoint: 5 },
        connections: {
          'FaceOverlayFilter→HubPort': 2,
          'FaceOverlayFilter→WebRtcEndpoint': 2,
          'HubPort→WebRtcEndpoint': 1,
          'WebRtcEndpoint→FaceOverlayFilter': 2,
        },
      },
    );
    await hostWs.request('setFaceDetection', { enabled: false });
    await settles('face detection off: the filters are gone', graph, grid);

    const ended = hostWs.next('coHostEnded');
    await guest.ws.request('endCoHost');
    assert.deepEqual(await ended, { userId: guest.user.user.id, reason: 'left' });
    assert.deepEqual(await guest.ws.next('coHostEnded'), { userId: guest.user.user.id, reason: 'left' });
    await settles('the guest left: solo again, its connections released', graph, {
      elements: { WebRtcEndpoint: 2 },
      connections: { 'WebRtcEndpoint→WebRtcEndpoint': 1 },
    });
    assert.equal(theia.app.rooms.verifyLive(result.liveId, forGuest.liveCode), false);
    // a guest that left keeps watching like any viewer
    await guest.ws.request('receiveVideo', { sdpOffer: chromeRecvOnlyOffer });

    const second = await member(host.roomId);
    await second.ws.request('requestCoHost');
    await hostWs.next('coHostRequested', (r) => r.userId === second.user.user.id);
    await hostWs.request('acceptCoHost', { userId: second.user.user.id });
    await second.ws.request('publishVideo', { sdpOffer: chromeOffer });
    await settles('a second guest: the grid again (the layout is kept with the room)', graph, {
      elements: { Composite: 1, HubPort: 3, WebRtcEndpoint: 4 },
      connections: { 'HubPort→WebRtcEndpoint': 2, 'WebRtcEndpoint→HubPort': 2 },
    });

    const liveEnded = second.ws.next('coHostEnded');
    await hostWs.request('stopLive');
    assert.deepEqual(await liveEnded, { userId: second.user.user.id, reason: 'liveEnded' });
    await nothingLeft(host.roomId);
  });

  test('a guest whose socket drops leaves the stage; the mix goes back to solo', async () => {
    const { host, hostWs } = await liveRoom();
    const graph = graphOf(host.roomId);
    const guest = await member(host.roomId);
    await guest.ws.request('requestCoHost');
    await hostWs.request('acceptCoHost', { userId: guest.user.user.id });
    await guest.ws.request('publishVideo', { sdpOffer: chromeOffer });
    await hostWs.request('receiveVideo', { sdpOffer: chromeRecvOnlyOffer, from: guest.user.user.id });
    await settles('mixing', graph, {
      elements: { AlphaBlending: 1, HubPort: 3, WebRtcEndpoint: 3 },
      connections: { 'WebRtcEndpoint→HubPort': 2, 'WebRtcEndpoint→WebRtcEndpoint': 1 },
    });
    const ended = hostWs.next('coHostEnded');
    await guest.ws.close();
    assert.deepEqual(await ended, { userId: guest.user.user.id, reason: 'disconnected' });
    assert.deepEqual((await hostWs.next('stageChanged', (s) => s.stage.length === 1)).stage[0]?.role, 'host');
    await settles('solo, the host alone', graph, { elements: { WebRtcEndpoint: 1 }, connections: {} });
    await hostWs.request('stopLive');
  });

  test('rejected, cancelled, closed and full: each answered as documented; a rejected viewer keeps watching', async () => {
    const { host, hostWs } = await liveRoom();
    const a = await member(host.roomId);
    const b = await member(host.roomId);
    const c = await member(host.roomId);

    await a.ws.request('requestCoHost');
    await refused(a.ws.request('requestCoHost'), ErrorCode.InvalidState, 'asking twice');
    const rejected = a.ws.next('coHostRejected');
    await hostWs.request('rejectCoHost', { userId: a.user.user.id });
    assert.deepEqual(await rejected, { userId: a.user.user.id, reason: 'rejected' });
    await refused(
      hostWs.request('acceptCoHost', { userId: a.user.user.id }),
      ErrorCode.NotFound,
      'accepting a rejected viewer',
    );
    await a.ws.request('receiveVideo', { sdpOffer: chromeRecvOnlyOffer });

    await b.ws.request('requestCoHost');
    const cancelled = hostWs.next('coHostRequestCancelled');
    await b.ws.request('cancelCoHostRequest');
    assert.deepEqual(await cancelled, { userId: b.user.user.id });
    await refused(b.ws.request('cancelCoHostRequest'), ErrorCode.InvalidState, 'cancelling nothing');

    // the one seat (MAX_GUESTS=1) taken, a further accept is refused and the request stays
    await b.ws.request('requestCoHost');
    await c.ws.request('requestCoHost');
    await hostWs.request('acceptCoHost', { userId: b.user.user.id });
    await refused(
      hostWs.request('acceptCoHost', { userId: c.user.user.id }),
      ErrorCode.InvalidState,
      'the stage is full',
    );
    const joined = await hostWs.request<{ requests: Array<{ userId: string }> }>('joinRoom', {
      roomId: host.roomId,
    });
    assert.deepEqual(
      joined.requests.map((r) => r.userId),
      [c.user.user.id],
    );

    // closing co-hosting answers pending requests and refuses new ones; guests stay
    const closed = c.ws.next('coHostRejected');
    await hostWs.request('setCoHosting', { enabled: false });
    assert.deepEqual(await closed, { userId: c.user.user.id, reason: 'closed' });
    await refused(a.ws.request('requestCoHost'), ErrorCode.InvalidState, 'co-hosting closed');
    const summary = (await theia.api(`/api/rooms/${host.roomId}`)).body.room as {
      coHosting: boolean;
      stage: unknown[];
    };
    assert.equal(summary.coHosting, false);
    assert.equal(summary.stage.length, 2);

    // a viewer who leaves the room withdraws the request
    await hostWs.request('setCoHosting', { enabled: true });
    await a.ws.request('requestCoHost');
    const gone = hostWs.next('coHostRequestCancelled', (r) => r.userId === a.user.user.id);
    await a.ws.request('leaveRoom');
    await gone;
    await hostWs.request('stopLive');
  });

  test('who may call what: anonymous, viewer, requester, guest, host and another room’s host', async () => {
    const { host, hostWs } = await liveRoom();
    const anon = await theia.connect();
    await anon.request('joinRoom', { roomId: host.roomId });
    const viewer = await member(host.roomId);
    const requester = await member(host.roomId);
    const guest = await member(host.roomId);
    const otherHost = await member(host.roomId); // owns a room of their own, a viewer here
    await guest.ws.request('requestCoHost');
    await hostWs.request('acceptCoHost', { userId: guest.user.user.id });
    await requester.ws.request('requestCoHost');

    const hostOnly: Array<[string, Record<string, unknown>]> = [
      ['setCoHosting', { enabled: true }],
      ['acceptCoHost', { userId: requester.user.user.id }],
      ['rejectCoHost', { userId: requester.user.user.id }],
      ['setLayout', { layout: 'grid' }],
      ['setFaceDetection', { enabled: false }],
    ];
    for (const [method, params] of hostOnly) {
      await refused(anon.request(method, params), ErrorCode.Unauthenticated, `${method} by a visitor`);
      for (const [who, ws] of [
        ['viewer', viewer.ws],
        ['requester', requester.ws],
        ['guest', guest.ws],
        ["another room's host", otherHost.ws],
      ] as const) {
        await refused(ws.request(method, params), ErrorCode.Forbidden, `${method} by the ${who}`);
      }
    }
    await refused(anon.request('requestCoHost'), ErrorCode.Unauthenticated, 'requestCoHost by a visitor');
    await refused(hostWs.request('requestCoHost'), ErrorCode.Forbidden, 'requestCoHost by the host');
    await refused(guest.ws.request('requestCoHost'), ErrorCode.InvalidState, 'requestCoHost by a guest');
    await refused(requester.ws.request('requestCoHost'), ErrorCode.InvalidState, 'requestCoHost twice');
    for (const [who, ws] of [
      ['visitor', anon],
      ['viewer', viewer.ws],
      ['guest', guest.ws],
      ['host', hostWs],
    ] as const) {
      await refused(
        ws.request('cancelCoHostRequest'),
        ErrorCode.InvalidState,
        `cancelCoHostRequest by the ${who}`,
      );
    }
    for (const [who, ws] of [
      ['visitor', anon],
      ['viewer', viewer.ws],
      ['requester', requester.ws],
    ] as const) {
      await refused(
        ws.request('endCoHost', { userId: guest.user.user.id }),
        ErrorCode.InvalidState,
        `endCoHost by the ${who}`,
      );
      await refused(
        ws.request('receiveVideo', { sdpOffer: chromeRecvOnlyOffer, from: host.user.id }),
        ErrorCode.Forbidden,
        `receiveVideo from the host by the ${who}`,
      );
    }
    await refused(
      anon.request('publishVideo', { sdpOffer: chromeOffer }),
      ErrorCode.Unauthenticated,
      'publishVideo by a visitor',
    );
    for (const [who, ws] of [
      ['viewer', viewer.ws],
      ['requester', requester.ws],
      ["another room's host", otherHost.ws],
    ] as const) {
      await refused(
        ws.request('publishVideo', { sdpOffer: chromeOffer }),
        ErrorCode.Forbidden,
        `publishVideo by the ${who}`,
      );
    }
    await refused(
      guest.ws.request('endCoHost', { userId: host.user.id }),
      ErrorCode.Forbidden,
      'a guest taking someone else off the stage',
    );
    await refused(
      guest.ws.request('receiveVideo', { sdpOffer: chromeRecvOnlyOffer, from: guest.user.user.id }),
      ErrorCode.InvalidState,
      'a guest watching itself',
    );
    await refused(
      hostWs.request('receiveVideo', { sdpOffer: chromeRecvOnlyOffer, from: viewer.user.user.id }),
      ErrorCode.NotFound,
      'watching someone not on stage',
    );
    await refused(
      hostWs.request('endCoHost', { userId: viewer.user.user.id }),
      ErrorCode.NotFound,
      'removing a non-guest',
    );

    // and what they may do
    await otherHost.ws.request('requestCoHost');
    await requester.ws.request('cancelCoHostRequest');
    await guest.ws.request('publishVideo', { sdpOffer: chromeOffer });
    await guest.ws.request('receiveVideo', { sdpOffer: chromeRecvOnlyOffer, from: host.user.id });
    await hostWs.request('receiveVideo', { sdpOffer: chromeRecvOnlyOffer, from: guest.user.user.id });
    await hostWs.request('setLayout', { layout: 'grid' });
    await hostWs.request('endCoHost', { userId: guest.user.user.id });
    assert.deepEqual(await guest.ws.next('coHostEnded'), { userId: guest.user.user.id, reason: 'removed' });
    await hostWs.request('stopLive');
    await nothingLeft(host.roomId);
  });

  test('races: the guest leaves while the host accepts; two accepts for one seat; the host stops while the guest negotiates', async () => {
    // the guest's socket closes while the host accepts: either the accept finds no request, or the
    // guest is accepted and then leaves; either way the stage ends with the host alone
    {
      const { host, hostWs } = await liveRoom();
      const guest = await member(host.roomId);
      await guest.ws.request('requestCoHost');
      await hostWs.next('coHostRequested');
      const [accept] = await Promise.allSettled([
        hostWs.request('acceptCoHost', { userId: guest.user.user.id }),
        guest.ws.close(),
      ]);
      if (accept.status === 'rejected') assert.equal((accept.reason as RpcError).code, ErrorCode.NotFound);
      else await hostWs.next('coHostEnded', (e) => e.reason === 'disconnected');
      const room = (await theia.api(`/api/rooms/${host.roomId}`)).body.room as {
        stage: Array<{ role: string }>;
      };
      assert.deepEqual(
        room.stage.map((m) => m.role),
        ['host'],
      );
      await hostWs.request('stopLive');
    }
    // two accepts racing for the last seat: exactly one wins
    {
      const { host, hostWs } = await liveRoom();
      const a = await member(host.roomId);
      const b = await member(host.roomId);
      await a.ws.request('requestCoHost');
      await b.ws.request('requestCoHost');
      const results = await Promise.allSettled([
        hostWs.request('acceptCoHost', { userId: a.user.user.id }),
        hostWs.request('acceptCoHost', { userId: b.user.user.id }),
      ]);
      assert.deepEqual(
        results.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as RpcError).code)),
        ['ok', ErrorCode.InvalidState],
      );
      await hostWs.request('stopLive');
    }
    // the host stops while the guest's offer is being processed: the guest's call fails or its
    // endpoint goes with the pipeline; nothing is left either way
    {
      const { host, hostWs } = await liveRoom();
      const guest = await member(host.roomId);
      await guest.ws.request('requestCoHost');
      await hostWs.request('acceptCoHost', { userId: guest.user.user.id });
      const [publish] = await Promise.allSettled([
        guest.ws.request('publishVideo', { sdpOffer: chromeOffer }),
        hostWs.request('stopLive'),
      ]);
      if (publish.status === 'rejected')
        assert.equal((publish.reason as RpcError).code, ErrorCode.InvalidState);
      await guest.ws.next('coHostEnded', (e) => e.reason === 'liveEnded');
      await nothingLeft(host.roomId);
    }
  });

  test(
    'no call would have crashed a real KMS, and no sink was cut off by a disconnect after a switch',
    { skip: NEEDS_FAKE },
    () => {
      assert.deepEqual(theia.fake!.crashingCalls, []);
      assert.deepEqual(theia.fake!.unlinkedSinks(), []);
    },
  );

  test('setMaster is only ever given a port of its own AlphaBlending', { skip: NEEDS_FAKE }, () => {
    // every setMaster the app sent names a HubPort whose id is a child of the hub it was sent to
    // (KMS 7.3 crashes on anything else: shared/kms-protocol/README.md)
    const calls = theia.fake!.calls({ method: 'invoke', operation: 'setMaster' });
    assert.ok(calls.length > 0, 'the cycle above used picture-in-picture');
    for (const call of calls) {
      const { object, operationParams } = call.params as {
        object: string;
        operationParams: { source: string };
      };
      assert.ok(
        operationParams.source.startsWith(`${object}/`),
        `${operationParams.source} is a port of ${object}`,
      );
      assert.match(operationParams.source, /_kurento\.HubPort$/);
    }
  });
});

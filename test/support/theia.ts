/**
 * Starts the real Theia app on 127.0.0.1 for integration tests, with a fresh lowdb file in a temp
 * dir, against the fake KMS — or against the real KMS at KMS_URI when it is set (`npm run test:kms`).
 */
import { randomUUID } from 'node:crypto';
import { App } from '../../src/App.js';
import { loadConfig } from '../../src/config.js';
import type { RoomManagerOptions } from '../../src/rooms/RoomManager.js';
import type { SignallingOptions } from '../../src/signalling/SignallingServer.js';
import { FakeKms } from './FakeKms.js';
import { KmsInspector } from './KmsInspector.js';
import { RpcClient } from './RpcClient.js';
import { chromeOffer, chromeRecvOnlyOffer } from './sdp.js';
import { tempDir } from './tempDir.js';

/** The real KMS under test, when `npm run test:kms` set one. */
export const REAL_KMS_URI = process.env.KMS_URI;

/** Skip reason for tests that need the fake's fault injection. */
export const NEEDS_FAKE = REAL_KMS_URI
  ? 'injects faults into the fake KMS; not possible with KMS_URI set'
  : false;

export interface Theia {
  app: App;
  /** The fake KMS, or undefined against a real KMS. */
  fake: FakeKms | undefined;
  kmsUri: string;
  url: string;
  wsUrl: string;
  /** Prefix of this app's pipeline names in KMS. */
  pipelinePrefix: string;
  inspector: KmsInspector;
  /** Signs a user up over REST; returns the user, token and their room id. */
  signUp(name?: string): Promise<{ user: { id: string; name: string }; token: string; roomId: string }>;
  /** A signalling socket, authenticated when `token` is given. */
  connect(token?: string): Promise<RpcClient>;
  /** A new host goes live and publishes; an anonymous viewer joins and receives. */
  goLive(): Promise<{
    host: Awaited<ReturnType<Theia['signUp']>>;
    hostWs: RpcClient;
    viewer: RpcClient;
    liveId: string;
  }>;
  /** fetch against the app with JSON. */
  api(
    path: string,
    init?: { method?: string; body?: unknown; token?: string; raw?: string },
  ): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

let counter = 0;

export async function startTheia(
  options: {
    env?: Record<string, string>;
    rooms?: RoomManagerOptions;
    signalling?: Pick<SignallingOptions, 'maxBufferedBytes'>;
  } = {},
): Promise<Theia> {
  const fake = REAL_KMS_URI ? undefined : await FakeKms.start();
  const kmsUri = REAL_KMS_URI ?? fake!.url;
  const tmp = await tempDir();
  const instanceId = `test-${randomUUID().slice(0, 8)}`;
  const app = await App.create(
    loadConfig({
      HOST: '127.0.0.1',
      PORT: '0',
      DATA_DIR: tmp.dir,
      KMS_URI: kmsUri,
      INSTANCE_ID: instanceId,
      KMS_CALL_TIMEOUT_MS: '2000',
      KMS_HEARTBEAT_MS: '250',
      KMS_RECONNECT_MS: '100',
      LOGIN_RATE_LIMIT: '1000',
      WS_HEARTBEAT_MS: '60000',
      // an ffmpeg per live is costly on 2 cores: the egress suite turns it on
      DASH_EGRESS: 'off',
      // a dropped host ends its live at once unless a test asks for a grace period
      HOST_GRACE_MS: '0',
      // the RTMP ingest suites turn it on (on a free port)
      RTMP_INGEST: 'off',
      ...options.env,
    }),
    { rooms: options.rooms, signalling: options.signalling },
  );
  const inspector = await KmsInspector.connect(kmsUri);
  const url = app.url;
  const connections: RpcClient[] = [];

  const api: Theia['api'] = async (path, init = {}) => {
    const headers: Record<string, string> = {};
    if (init.body !== undefined || init.raw !== undefined) headers['content-type'] = 'application/json';
    if (init.token) headers.authorization = `Bearer ${init.token}`;
    const res = await fetch(url + path, {
      method: init.method ?? (init.body !== undefined || init.raw !== undefined ? 'POST' : 'GET'),
      headers,
      body: init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body)),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };

  const theia: Theia = {
    app,
    fake,
    kmsUri,
    url,
    wsUrl: url.replace(/^http/, 'ws') + '/ws',
    pipelinePrefix: `theia/${instanceId}/`,
    inspector,
    api,
    async signUp(name = `user${++counter}${randomUUID().slice(0, 4)}`) {
      const res = await api('/api/users', { body: { name, password: 'password123' } });
      if (res.status !== 201) throw new Error(`sign-up failed: ${res.status} ${JSON.stringify(res.body)}`);
      const me = await api('/api/me', { token: res.body.token });
      return { user: res.body.user, token: res.body.token, roomId: me.body.roomId };
    },
    async goLive() {
      const host = await theia.signUp();
      const hostWs = await theia.connect(host.token);
      await hostWs.request('joinRoom', { roomId: host.roomId });
      const { liveId } = await hostWs.request<{ liveId: string }>('startLive');
      await hostWs.request('publishVideo', { sdpOffer: chromeOffer });
      const viewer = await theia.connect();
      await viewer.request('joinRoom', { roomId: host.roomId });
      await viewer.request('receiveVideo', { sdpOffer: chromeRecvOnlyOffer });
      return { host, hostWs, viewer, liveId };
    },
    async connect(token) {
      const c = await RpcClient.connect(url.replace(/^http/, 'ws') + '/ws', token);
      connections.push(c);
      return c;
    },
    async close() {
      await Promise.all(connections.map((c) => c.close()));
      await app.close();
      inspector.close();
      await fake?.stop();
      await tmp.remove();
    },
  };
  return theia;
}

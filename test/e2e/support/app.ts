/**
 * The app under an e2e test: the fake KMS forwarding real media (werift), or the real KMS at
 * KMS_URI, and Theia on 127.0.0.1 with a fresh data directory, serving the web build.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App } from '../../../src/App.js';
import { loadConfig } from '../../../src/config.js';
import { FakeKms } from '../../support/FakeKms.js';
import { KmsInspector } from '../../support/KmsInspector.js';

/** The real KMS under test, when set. */
export const REAL_KMS_URI = process.env.KMS_URI;
/** The web build the app serves (`npm run build:web`; THEIA_E2E_WEB_DIR for another one). */
export const WEB_DIR = process.env.THEIA_E2E_WEB_DIR ?? 'dist/web';

export interface E2eApp {
  app: App;
  /** The fake KMS, or undefined against a real one. */
  kms: FakeKms | undefined;
  /** Media objects this app holds in KMS: the fake's object table, or the real KMS's pipelines of this app. */
  kmsObjects(): Promise<unknown[]>;
  close(): Promise<void>;
}

/**
 * Starts the KMS (fake unless KMS_URI) and the app.
 * @param env extra configuration (e.g. `{ DASH_EGRESS: 'on' }`)
 * @throws Error when the web build is missing
 */
export async function startE2eApp(env: Record<string, string> = {}): Promise<E2eApp> {
  if (!existsSync(path.join(WEB_DIR, 'index.html'))) {
    throw new Error(`${WEB_DIR}/index.html is missing: run \`npm run build:web\` before the e2e tests.`);
  }
  // the fake forwards real media (werift), so viewers really decode frames as with a real KMS
  const kms = REAL_KMS_URI ? undefined : await FakeKms.start({ media: true });
  const dataDir = await mkdtemp(path.join(tmpdir(), 'theia-e2e-'));
  const instanceId = `e2e-${randomUUID().slice(0, 8)}`;
  let app: App | undefined;
  try {
    app = await App.create(
      loadConfig({
        PORT: '0',
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        KMS_URI: REAL_KMS_URI ?? kms!.url,
        WEB_DIR,
        INSTANCE_ID: instanceId,
        // every page signs up or logs in from 127.0.0.1: far more than a person's attempts a minute
        LOGIN_RATE_LIMIT: '1000',
        // an ffmpeg per live is costly on 2 cores; the DASH scenario turns it on
        DASH_EGRESS: 'off',
        // an RTMP server for OBS per app would contend for port 1935
        RTMP_INGEST: 'off',
        // a real KMS transcodes between codecs; the fake does not, and Debian's Firefox ESR cannot
        // send H.264 (no OpenH264 without a download): with the fake, publish what both browsers share
        PUBLISH_VIDEO_CODEC: REAL_KMS_URI ? 'h264' : 'vp8',
        // a closed host page ends its live at once unless a test asks for a grace period
        HOST_GRACE_MS: '0',
        NODE_ENV: 'test',
        ...env,
      }),
    );
  } catch (err) {
    await kms?.stop();
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  const started = app;
  return {
    app: started,
    kms,
    async kmsObjects() {
      if (kms) return kms.objects();
      const inspector = await KmsInspector.connect(REAL_KMS_URI!);
      try {
        return await inspector.pipelines(`theia/${instanceId}/`);
      } finally {
        inspector.close();
      }
    },
    async close() {
      try {
        await started.close();
      } finally {
        await kms?.stop();
        await rm(dataDir, { recursive: true, force: true });
      }
    },
  };
}

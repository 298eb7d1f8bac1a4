/**
 * The fake KMS of the test suites as a stand-alone server, for working on the UI without a real
 * KMS (`npm run dev:fake-kms`, then `npm run dev` in another terminal): it speaks Kurento's
 * JSON-RPC on ws://127.0.0.1:8888/kurento and forwards real media between browsers (werift), but
 * does not mix, draw face overlays or transcode (test/support/README.md).
 *
 *   FAKE_KMS_PORT=8888 npm run dev:fake-kms
 */
import { FakeKms } from '../test/support/FakeKms.js';

const port = Number(process.env.FAKE_KMS_PORT ?? 8888);
const kms = await FakeKms.start({ port, media: true });
process.stdout.write(`fake KMS (media forwarding, no mixing) at ${kms.url}\n`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void kms.stop().then(() => process.exit(0));
  });
}

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig } from '../../src/config.js';

describe('loadConfig()', () => {
  test('has working defaults for one laptop', () => {
    const c = loadConfig({});
    assert.equal(c.port, 8080);
    assert.equal(c.kms.uri, 'ws://127.0.0.1:8888/kurento');
    assert.deepEqual(c.iceServers, []);
    assert.equal(c.publicUrl, 'http://localhost:8080');
    assert.equal(c.instanceId, 'theia');
  });

  test('reads and converts variables', () => {
    const c = loadConfig({
      PORT: '9000',
      KMS_URI: 'wss://kms.example.org/kurento',
      ICE_SERVERS: '[{"urls":"stun:stun.example.org:3478"}]',
      TOKEN_TTL_HOURS: '2',
    });
    assert.equal(c.port, 9000);
    assert.equal(c.kms.uri, 'wss://kms.example.org/kurento');
    assert.deepEqual(c.iceServers, [{ urls: 'stun:stun.example.org:3478' }]);
    assert.equal(c.tokenTtlMs, 7_200_000);
  });

  test('names every bad variable', () => {
    assert.throws(
      () => loadConfig({ PORT: 'eighty', KMS_URI: 'http://x', ICE_SERVERS: '[{' }),
      (err: Error) =>
        /PORT/.test(err.message) && /KMS_URI/.test(err.message) && /ICE_SERVERS/.test(err.message),
    );
  });
});

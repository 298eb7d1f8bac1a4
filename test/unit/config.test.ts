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

  test('prints one readable line per problem, naming the variable, the rule and the value', () => {
    assert.throws(
      () => loadConfig({ PORT: 'x', LOG_LEVEL: 'verbose', KMS_RECONNECT_MS: '0' }),
      (err: Error) => {
        assert.deepEqual(err.message.split('\n'), [
          'Invalid configuration:',
          '  PORT: must be an integer from 0 to 65535 (got "x")',
          '  KMS_RECONNECT_MS: must be a positive integer (got "0")',
          '  LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent (got "verbose")',
        ]);
        return true;
      },
    );
  });

  test('never echoes ICE_SERVERS, which may hold TURN credentials', () => {
    assert.throws(
      () => loadConfig({ ICE_SERVERS: '[{"urls":"turn:x","credential":"s3cret"' }),
      (err: Error) => /ICE_SERVERS: must be JSON/.test(err.message) && !err.message.includes('s3cret'),
    );
  });

  test('LOG_LEVEL: pino levels and silent; silent by default under NODE_ENV=test', () => {
    for (const level of ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) {
      assert.equal(loadConfig({ LOG_LEVEL: level }).logLevel, level);
    }
    assert.equal(loadConfig({}).logLevel, 'info');
    assert.equal(loadConfig({ NODE_ENV: 'test' }).logLevel, 'silent');
    assert.throws(() => loadConfig({ LOG_LEVEL: 'INFO' }), /LOG_LEVEL: must be one of/);
  });

  test('empty variables count as unset', () => {
    assert.equal(loadConfig({ PORT: '', LOG_LEVEL: '' }).port, 8080);
  });

  test('TRUST_PROXY: off by default; true, a hop count, or proxy addresses and subnets', () => {
    assert.equal(loadConfig({}).trustProxy, false);
    assert.equal(loadConfig({ TRUST_PROXY: 'false' }).trustProxy, false);
    assert.equal(loadConfig({ TRUST_PROXY: 'true' }).trustProxy, true);
    assert.equal(loadConfig({ TRUST_PROXY: '2' }).trustProxy, 2);
    assert.deepEqual(
      loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8, fd00::/8, 192.168.1.7, 172.16.0.0/255.240.0.0' })
        .trustProxy,
      ['loopback', '10.0.0.0/8', 'fd00::/8', '192.168.1.7', '172.16.0.0/255.240.0.0'],
    );
    for (const bad of ['yes', '10.0.0.0/33', 'proxy.example.org', '10.0.0.1,', '-1']) {
      assert.throws(
        () => loadConfig({ TRUST_PROXY: bad }),
        /TRUST_PROXY: must be true, false, a hop count/,
        bad,
      );
    }
  });

  test('ALLOWED_ORIGINS: a comma-separated list of origins, empty by default', () => {
    assert.deepEqual(loadConfig({}).allowedOrigins, []);
    assert.deepEqual(
      loadConfig({ ALLOWED_ORIGINS: ' https://A.example.org , http://localhost:5173/' }).allowedOrigins,
      ['https://a.example.org', 'http://localhost:5173'],
    );
    assert.throws(
      () => loadConfig({ ALLOWED_ORIGINS: 'https://ok.org,https://x.org/path' }),
      /ALLOWED_ORIGINS: "https:\/\/x.org\/path" is not an origin/,
    );
    assert.throws(() => loadConfig({ ALLOWED_ORIGINS: 'example.org' }), /ALLOWED_ORIGINS/);
  });

  test('login delays per account: 5 free failures, then 1 s doubling up to 5 min', () => {
    assert.deepEqual(loadConfig({}).loginDelay, { freeFailures: 5, baseMs: 1000, maxMs: 300_000 });
    assert.deepEqual(
      loadConfig({ LOGIN_FREE_FAILURES: '0', LOGIN_DELAY_MS: '20', LOGIN_DELAY_MAX_MS: '80' }).loginDelay,
      { freeFailures: 0, baseMs: 20, maxMs: 80 },
    );
  });
});

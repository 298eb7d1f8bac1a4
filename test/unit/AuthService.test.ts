import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import { AuthService } from '../../src/auth/AuthService.js';
import { LoginDelayedError, LoginThrottle } from '../../src/auth/LoginThrottle.js';
import { hashPassword, verifyPassword } from '../../src/auth/passwords.js';
import { ConflictError, UnauthenticatedError } from '../../src/errors.js';
import { Store } from '../../src/store/Store.js';
import { tempDir } from '../support/tempDir.js';
import { mixedScripts, normalizeUserName, userNameKey } from '../../src/auth/userNames.js';

describe('passwords', () => {
  test('a hash verifies its password only', async () => {
    const hash = await hashPassword('correct horse');
    assert.match(hash, /^scrypt\$16384\$8\$1\$/);
    assert.equal(await verifyPassword('correct horse', hash), true);
    assert.equal(await verifyPassword('correct horsf', hash), false);
    assert.notEqual(await hashPassword('correct horse'), hash, 'salted');
  });

  test('a malformed stored hash never verifies', async () => {
    assert.equal(await verifyPassword('x', 'plain'), false);
    assert.equal(await verifyPassword('x', 'scrypt$1$2$3'), false);
  });
});

describe('user names', () => {
  test('normalizeUserName() stores NFKC: full-width and compatibility letters become plain ones', () => {
    assert.equal(normalizeUserName('ａｌｉｃｅ'), 'alice');
    assert.equal(normalizeUserName(' ﬁona\u3000'), 'fiona');
    assert.equal(normalizeUserName('Zoe\u0308'), 'Zoë'); // combining diaeresis composed
  });

  test('userNameKey() makes case, width and the Turkish i no different name', () => {
    const same = [
      ['Alice', 'alice', 'ALICE', 'ａｌｉｃｅ', 'Ａｌｉｃｅ'],
      ['İstanbul', 'istanbul', 'ISTANBUL', 'ıstanbul'],
      ['Straße', 'STRASSE', 'strasse'],
      ['ΟΔΟΣ', 'οδος', 'οδοσ'],
      ['Zoë', 'ZOË', 'Zoe\u0308'],
    ];
    for (const group of same) {
      const keys = group.map(userNameKey);
      assert.deepEqual(new Set(keys).size, 1, `${group.join(', ')} → ${keys.join(', ')}`);
      assert.equal(keys[0], keys[0]!.toLowerCase(), 'keys are lower-case, as the store expects');
    }
    assert.notEqual(userNameKey('Alice'), userNameKey('Аlice'), 'Cyrillic А is another letter');
  });

  test('mixedScripts() refuses Latin with Cyrillic, Greek or other look-alikes', () => {
    assert.deepEqual(mixedScripts('Аlice'), ['Cyrillic', 'Latin']);
    assert.deepEqual(mixedScripts('Pаypal'), ['Latin', 'Cyrillic']);
    assert.deepEqual(mixedScripts('Αlex'), ['Greek', 'Latin']);
    assert.deepEqual(mixedScripts('abc৪'), ['Latin', 'Bengali'], 'a Bengali digit that looks like 8');
    assert.deepEqual(mixedScripts('Ꭺlice'), ['Other', 'Latin'], 'Cherokee Ꭺ');
  });

  test('mixedScripts() allows one script, digits and _ - . anywhere, and the CJK combinations', () => {
    for (const name of [
      'alice_99',
      'jean-luc.picard',
      'Αλέξανδρος',
      'Дмитрий-7',
      '张伟明',
      '山田たろう',
      'ヤマダ太郎',
      'ラーメン_1',
      '김민준',
      'Tanaka太郎',
      'שרה',
      'محمد',
    ]) {
      assert.equal(mixedScripts(name), undefined, name);
    }
  });
});

describe('AuthService', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let store: Store;
  let auth: AuthService;
  beforeEach(async () => {
    tmp = await tempDir();
    store = await Store.open(tmp.dir);
    auth = new AuthService(store, { tokenTtlMs: 60_000 });
  });
  afterEach(() => tmp.remove());

  test('signUp() creates the user, their room and an RtmpToken', async () => {
    const user = await auth.signUp('Alice', 'password1');
    const rooms = store.rooms().filter((r) => r.ownerId === user.id);
    assert.equal(rooms.length, 1);
    assert.equal(rooms[0]?.title, "Alice's room");
    assert.ok(user.rtmpToken.length >= 20);
    assert.ok(!JSON.stringify(user).includes('password1'));
  });

  test('names are unique regardless of case', async () => {
    await auth.signUp('Alice', 'password1');
    await assert.rejects(auth.signUp('alice', 'password2'), ConflictError);
  });

  test('look-alike names are the same name: stored in NFKC, unique by case-folded key', async () => {
    const alice = await auth.signUp('ａｌｉｃｅ', 'password1');
    assert.equal(alice.name, 'alice');
    await assert.rejects(auth.signUp('Alice', 'password2'), ConflictError);
    await assert.rejects(auth.signUp('ALİCE', 'password2'), ConflictError);
    assert.equal((await auth.checkPassword('Ａｌｉｃｅ', 'password1'))?.id, alice.id);

    const city = await auth.signUp('İstanbul', 'password1');
    await assert.rejects(auth.signUp('istanbul', 'password2'), ConflictError);
    await assert.rejects(auth.signUp('ıstanbul', 'password2'), ConflictError);
    assert.equal((await auth.checkPassword('ISTANBUL', 'password1'))?.id, city.id);
  });

  test('users stored before name keys still log in with their name (as their old key matched it)', async () => {
    // the record shape of earlier versions: nameKey = name.toLowerCase(), name not normalised
    const legacy = async (id: string, name: string) => {
      await store.addUserWithRoom(
        {
          id,
          name,
          nameKey: name.toLowerCase(),
          passwordHash: await hashPassword('password1'),
          rtmpToken: `rtmp-${id}`,
          createdAt: 0,
        },
        { id: `room-${id}`, ownerId: id, title: 'old', createdAt: 0 },
      );
    };
    await legacy('u-izmir', 'İzmir');
    await legacy('u-wide', 'ｗｉｄｅ');
    assert.equal((await auth.checkPassword('İzmir', 'password1'))?.id, 'u-izmir');
    assert.equal((await auth.checkPassword('İZMIR', 'password1'))?.id, 'u-izmir');
    assert.equal((await auth.checkPassword('ｗｉｄｅ', 'password1'))?.id, 'u-wide');
    await assert.rejects(auth.signUp('İzmir', 'password2'), ConflictError);
  });

  test('checkPassword() finds the user only with the right password', async () => {
    const user = await auth.signUp('Alice', 'password1');
    assert.equal((await auth.checkPassword('ALICE', 'password1'))?.id, user.id);
    assert.equal(await auth.checkPassword('Alice', 'wrong-pass'), undefined);
    assert.equal(await auth.checkPassword('Nobody', 'password1'), undefined);
  });

  test('tokens authenticate until revoked', async () => {
    const user = await auth.signUp('Alice', 'password1');
    const { token } = await auth.issueToken(user);
    assert.equal(auth.authenticate(token).id, user.id);
    assert.equal(await auth.revoke(token), true);
    assert.throws(() => auth.authenticate(token), UnauthenticatedError);
    assert.throws(() => auth.authenticate('made-up'), UnauthenticatedError);
  });

  test('tokens expire', async () => {
    const shortLived = new AuthService(store, { tokenTtlMs: 1 });
    const user = await shortLived.signUp('Bob', 'password1');
    const { token, expiresAt } = await shortLived.issueToken(user);
    while (Date.now() <= expiresAt) await new Promise((r) => setImmediate(r));
    assert.throws(() => shortLived.authenticate(token), UnauthenticatedError);
  });
});

describe('LoginThrottle', () => {
  // rate-limiter-flexible reads Date.now() and expires records with setTimeout: both mocked
  beforeEach(() => mock.timers.enable({ apis: ['Date', 'setTimeout'], now: 1_000_000 }));
  afterEach(() => mock.timers.reset());
  const options = { freeFailures: 2, baseDelayMs: 1000, maxDelayMs: 5000 };

  /** The LoginDelayedError admit() throws now, or undefined when it admits. */
  async function refusal(throttle: LoginThrottle, name: string): Promise<LoginDelayedError | undefined> {
    try {
      await throttle.admit(name);
      return undefined;
    } catch (err) {
      if (err instanceof LoginDelayedError) return err;
      throw err;
    }
  }

  test('delayAfter(): free failures, then the base delay doubling up to the cap', () => {
    const throttle = new LoginThrottle(options);
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7, 100].map((n) => throttle.delayAfter(n)),
      [0, 0, 1000, 2000, 4000, 5000, 5000, 5000],
    );
  });

  test('each failure beyond the free ones makes the next attempt wait, twice as long each time', async () => {
    const throttle = new LoginThrottle(options);
    assert.deepEqual(await throttle.admit('alice'), { failures: 1, delayMs: 0 });
    assert.deepEqual(await throttle.admit('alice'), { failures: 2, delayMs: 0 });
    assert.deepEqual(await throttle.admit('alice'), { failures: 3, delayMs: 1000 });
    assert.equal((await refusal(throttle, 'alice'))?.retryAfterMs, 1000);
    mock.timers.tick(600);
    const waiting = await refusal(throttle, 'ALICE');
    assert.equal(waiting?.retryAfterMs, 400, 'the same name in another case');
    assert.equal(waiting?.status, 429);
    mock.timers.tick(400);
    // refused attempts were not counted: this is the 4th failure, not the 6th
    assert.deepEqual(await throttle.admit('alice'), { failures: 4, delayMs: 2000 });
    mock.timers.tick(1999);
    assert.ok(await refusal(throttle, 'alice'));
    mock.timers.tick(1);
    assert.equal(await refusal(throttle, 'alice'), undefined);
  });

  test('the delay runs from the failure, not from when the attempt was admitted', async () => {
    const throttle = new LoginThrottle(options);
    for (let i = 0; i < 3; i++) await throttle.admit('alice');
    mock.timers.tick(700); // the password check of the third attempt took this long
    await throttle.failed('alice');
    assert.equal((await refusal(throttle, 'alice'))?.retryAfterMs, 1000);
  });

  test('other names are counted apart; a success forgets the failures', async () => {
    const throttle = new LoginThrottle(options);
    for (let i = 0; i < 3; i++) await throttle.admit('alice');
    assert.ok(await refusal(throttle, 'alice'));
    assert.equal(await refusal(throttle, 'bob'), undefined);
    await throttle.succeeded('Alice');
    assert.deepEqual(await throttle.admit('alice'), { failures: 1, delayMs: 0 });
  });

  test('concurrent attempts: only the free ones and the first beyond them reach the password check', async () => {
    const throttle = new LoginThrottle(options);
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => throttle.admit('alice')));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 3);
    assert.ok(
      results.every((r) => r.status === 'fulfilled' || r.reason instanceof LoginDelayedError),
      'the rest must wait',
    );
  });

  test('failures are forgotten a while after the first of them', async () => {
    const throttle = new LoginThrottle({ ...options, forgetAfterMs: 60_000 });
    await throttle.admit('alice');
    await throttle.admit('alice');
    mock.timers.tick(60_000);
    assert.deepEqual(await throttle.admit('alice'), { failures: 1, delayMs: 0 });
  });
});

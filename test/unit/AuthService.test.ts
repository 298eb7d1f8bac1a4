import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { AuthService } from '../../src/auth/AuthService.js';
import { hashPassword, verifyPassword } from '../../src/auth/passwords.js';
import { ConflictError, UnauthenticatedError } from '../../src/errors.js';
import { Store } from '../../src/store/Store.js';
import { tempDir } from '../support/tempDir.js';

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

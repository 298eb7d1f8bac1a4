/**
 * Users, passwords and bearer tokens. Sign-up creates the user, the one room they own and their
 * RtmpToken; login (through passport-local, see http/) issues an opaque token that expires after
 * `tokenTtlMs` and can be revoked by logout. Only the sha256 of a token is stored.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { ConflictError, UnauthenticatedError } from '../errors.js';
import type { PublicUser } from '../protocol/index.js';
import type { Store, UserRecord } from '../store/Store.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { normalizeUserName, userNameKey } from './userNames.js';

/** A hash that no password matches, so unknown names cost as much time as wrong passwords. */
const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/**
 * The id under which a bearer token's session is stored and announced: its sha256, hex. Holding
 * this instead of the token keeps the secret out of memory that outlives the request.
 */
export const tokenHash = (token: string): string => sha256(token);

/** Events of {@link AuthService}. */
export interface AuthEvents {
  /** A session was revoked (logout): sockets authenticated by it must stop acting for the user. */
  sessionRevoked: [tokenHash: string];
}

/** The public view of a user record. */
export function publicUser(u: UserRecord): PublicUser {
  return { id: u.id, name: u.name };
}

export class AuthService extends EventEmitter<AuthEvents> {
  readonly #store: Store;
  readonly #tokenTtlMs: number;

  constructor(store: Store, options: { tokenTtlMs: number }) {
    super();
    this.#store = store;
    this.#tokenTtlMs = options.tokenTtlMs;
  }

  /**
   * Creates a user with their room (titled "<name>'s room") and RtmpToken. The name is stored in
   * NFKC ({@link normalizeUserName}) with its {@link userNameKey} as `nameKey`.
   * Name and password must already be validated (http/ does it with zod, scripts included).
   * @throws ConflictError when the name is taken: equal by {@link userNameKey}, so case, width and
   *   the Turkish i's do not make a different name.
   */
  async signUp(name: string, password: string): Promise<UserRecord> {
    const display = normalizeUserName(name);
    const taken = (): ConflictError | undefined =>
      this.#userByName(display)
        ? new ConflictError(`The name "${display}" is taken. Choose another.`)
        : undefined;
    const before = taken();
    if (before) throw before;
    const passwordHash = await hashPassword(password);
    // a concurrent sign-up may have taken the name while we hashed
    const after = taken();
    if (after) throw after;
    const now = Date.now();
    const user: UserRecord = {
      id: randomUUID(),
      name: display,
      nameKey: userNameKey(display),
      passwordHash,
      rtmpToken: randomBytes(18).toString('base64url'),
      createdAt: now,
    };
    await this.#store.addUserWithRoom(user, {
      id: randomUUID(),
      ownerId: user.id,
      title: `${display}'s room`,
      createdAt: now,
    });
    return user;
  }

  /**
   * The user called `name`, compared by {@link userNameKey}. Users stored before names had that key
   * have `nameKey` = their name lower-cased, so they are also looked up that way: they log in with
   * the name they signed up with, in any case.
   */
  #userByName(name: string): UserRecord | undefined {
    // Store.userByName lower-cases its argument and compares it with the stored nameKey
    return this.#store.userByName(userNameKey(name)) ?? this.#store.userByName(name);
  }

  /** The user whose name and password match, or undefined. Takes the same time for unknown names. */
  async checkPassword(name: string, password: string): Promise<UserRecord | undefined> {
    const user = this.#userByName(name);
    const ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
    return ok ? user : undefined;
  }

  /** Issues a new bearer token for `user`: 32 random bytes, base64url. */
  async issueToken(user: UserRecord): Promise<{ token: string; expiresAt: number }> {
    const token = randomBytes(32).toString('base64url');
    const now = Date.now();
    const expiresAt = now + this.#tokenTtlMs;
    await this.#store.addSession({ tokenHash: sha256(token), userId: user.id, createdAt: now, expiresAt });
    return { token, expiresAt };
  }

  /**
   * The user a token belongs to.
   * @throws UnauthenticatedError when the token is unknown, revoked or expired.
   */
  authenticate(token: string): UserRecord {
    const user = this.userOfSession(sha256(token));
    if (!user) throw new UnauthenticatedError('Your session has expired or was ended. Log in again.');
    return user;
  }

  /**
   * The user of the session stored under `hash` ({@link tokenHash}), or undefined when that session
   * was revoked, has expired, or its user is gone. Sockets re-check this on every call that needs a
   * login, so a logout or an expiry takes effect on connections opened before it.
   */
  userOfSession(hash: string): UserRecord | undefined {
    const session = this.#store.sessionByTokenHash(hash);
    return session && session.expiresAt > Date.now() ? this.#store.userById(session.userId) : undefined;
  }

  /** Revokes a token (logout) and emits `sessionRevoked`. Returns false when it was not valid. */
  async revoke(token: string): Promise<boolean> {
    const hash = sha256(token);
    const removed = await this.#store.removeSession(hash);
    if (removed) this.emit('sessionRevoked', hash);
    return removed;
  }
}

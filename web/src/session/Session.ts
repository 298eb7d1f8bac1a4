/**
 * Who is logged in in this browser. The bearer token lives in localStorage (so a reload keeps
 * the session); the user and the room they own come from `GET /api/me`. Fires `change` whenever
 * any of them changes.
 */
import * as api from '../api/api.js';
import { ApiError } from '../errors.js';
import type { PublicUser } from '../protocol.js';

const STORAGE_KEY = 'theia.session';

interface Stored {
  token: string;
  expiresAt: number;
}

function readStored(): Stored | undefined {
  try {
    const raw = localStorage.getItem(STORAGE_KEY);
    if (!raw) return undefined;
    const value = JSON.parse(raw) as unknown;
    if (typeof value !== 'object' || value === null) return undefined;
    const { token, expiresAt } = value as Partial<Stored>;
    if (typeof token !== 'string' || typeof expiresAt !== 'number' || expiresAt <= Date.now())
      return undefined;
    return { token, expiresAt };
  } catch {
    return undefined; // storage disabled or garbled: start logged out
  }
}

/** The logged-in user of this browser, if any. */
export class Session extends EventTarget {
  #token: string | undefined;
  #user: PublicUser | undefined;
  #roomId: string | null = null;
  #restored = false;

  constructor() {
    super();
    this.#token = readStored()?.token;
    this.#restored = this.#token === undefined;
  }

  /** Bearer token for REST and the `authenticate` call; undefined when logged out. */
  get token(): string | undefined {
    return this.#token;
  }

  get user(): PublicUser | undefined {
    return this.#user;
  }

  /** The room the user owns (every user has one). */
  get roomId(): string | null {
    return this.#roomId;
  }

  /** False until a stored token was checked with the server. */
  get restored(): boolean {
    return this.#restored;
  }

  /** Checks a stored token with the server; forgets it when the server no longer accepts it. */
  async restore(): Promise<void> {
    const token = this.#token;
    if (!token) return;
    try {
      await this.#load(token);
    } catch (err) {
      if (err instanceof ApiError && err.unauthenticated) this.#clear();
      else throw err;
    } finally {
      this.#restored = true;
      this.#changed();
    }
  }

  /** Creates an account and logs in. @throws ApiError with the server's message (name taken, too short…). */
  async signUp(name: string, password: string): Promise<void> {
    this.#store(await api.signUp(name, password));
    await this.#load(this.#token!);
  }

  /** @throws ApiError with the server's message ("Wrong name or password."). */
  async logIn(name: string, password: string): Promise<void> {
    this.#store(await api.logIn(name, password));
    await this.#load(this.#token!);
  }

  /** Logs out here, and revokes the token on the server when it can be reached. */
  async logOut(): Promise<void> {
    const token = this.#token;
    this.#clear();
    if (token) await api.logOut(token).catch(() => undefined); // an unknown token is as good as revoked
  }

  /** The server refused the token (expired or revoked elsewhere): forget it. */
  expire(): void {
    if (this.#token) this.#clear();
  }

  async #load(token: string): Promise<void> {
    const me = await api.fetchMe(token);
    if (this.#token !== token) return; // logged out meanwhile
    this.#user = me.user;
    this.#roomId = me.roomId;
    this.#changed();
  }

  #store({ user, token, expiresAt }: api.AuthResult): void {
    this.#token = token;
    this.#user = user;
    try {
      localStorage.setItem(STORAGE_KEY, JSON.stringify({ token, expiresAt } satisfies Stored));
    } catch {
      // storage disabled: the session lasts until the page closes
    }
    this.#changed();
  }

  #clear(): void {
    this.#token = undefined;
    this.#user = undefined;
    this.#roomId = null;
    try {
      localStorage.removeItem(STORAGE_KEY);
    } catch {
      // nothing stored
    }
    this.#changed();
  }

  #changed(): void {
    this.dispatchEvent(new Event('change'));
  }
}

/**
 * Per-account login throttling, the OWASP way
 * (https://cheatsheetseries.owasp.org/cheatsheets/Authentication_Cheat_Sheet.html#login-throttling):
 * failed logins in a row for one account name, from any address, earn a delay that doubles with
 * every further failure, up to a cap. A successful login resets it. It is a delay, never a lock-out:
 * attempts made while a delay runs are refused without being counted, so they do not extend it, and
 * once it has passed the right password works again.
 *
 * Names are counted by {@link userNameKey}, so `Alice`, `ALICE` and `ａｌｉｃｅ` share one count;
 * unknown names are counted the same way as known ones (nothing tells them apart). The counts live
 * in memory (rate-limiter-flexible), per app instance.
 */
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { RateLimitedError } from '../errors.js';
import { userNameKey } from './userNames.js';

export interface LoginThrottleOptions {
  /** Failed logins in a row for one name before delays start (0: from the first failure). */
  freeFailures: number;
  /** ms to wait after the first failure beyond the free ones; doubles with each further failure. */
  baseDelayMs: number;
  /** The delay never exceeds this (ms). */
  maxDelayMs: number;
  /** A name's failures are forgotten this long (ms) after the first of them; default 24 h. */
  forgetAfterMs?: number;
}

/** A login for this name must wait: HTTP 429 with `Retry-After`. */
export class LoginDelayedError extends RateLimitedError {
  /** ms until the next attempt for this name will be heard. */
  readonly retryAfterMs: number;

  constructor(retryAfterMs: number) {
    const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
    super(
      `Too many failed logins for this name. Wait ${seconds} second${seconds === 1 ? '' : 's'} and try again.`,
    );
    this.retryAfterMs = retryAfterMs;
  }
}

export class LoginThrottle {
  readonly #opts: Required<LoginThrottleOptions>;
  /** Attempts per name that have not (yet) succeeded. */
  readonly #failures: RateLimiterMemory;
  /** A name is blocked while its delay runs. */
  readonly #delays: RateLimiterMemory;
  /** The last admit() in line. */
  #turns: Promise<unknown> = Promise.resolve();

  constructor(options: LoginThrottleOptions) {
    this.#opts = { forgetAfterMs: 24 * 3_600_000, ...options };
    this.#failures = new RateLimiterMemory({
      keyPrefix: 'login-failures',
      points: Number.MAX_SAFE_INTEGER, // counts only; the delays decide
      duration: this.#opts.forgetAfterMs / 1000,
    });
    this.#delays = new RateLimiterMemory({ keyPrefix: 'login-delay', points: 0, duration: 1 });
  }

  /** The delay (ms) that follows the `failures`-th failure in a row: 0 while free, then doubling. */
  delayAfter(failures: number): number {
    const beyond = failures - this.#opts.freeFailures;
    if (beyond <= 0) return 0;
    return Math.min(this.#opts.maxDelayMs, this.#opts.baseDelayMs * 2 ** Math.min(beyond - 1, 52));
  }

  /**
   * Admits one login attempt for `name`, before its password is checked. The attempt counts as a
   * failure, and starts the delay that failure earns, until {@link succeeded} is called: so of
   * concurrent attempts only the free ones and one more get through. Call {@link failed} or
   * {@link succeeded} once the password has been checked.
   * @returns the failures in a row this attempt makes if it fails, and the delay that then follows.
   * @throws LoginDelayedError while the name's delay runs (the attempt is not counted).
   */
  admit(name: string): Promise<{ failures: number; delayMs: number }> {
    // one at a time: the check, the count and the delay must not interleave with another attempt's
    const turn = this.#turns.then(() => this.#admit(userNameKey(name)));
    this.#turns = turn.catch(() => undefined);
    return turn;
  }

  async #admit(key: string): Promise<{ failures: number; delayMs: number }> {
    const blocked = await this.#delays.get(key);
    if (blocked && blocked.msBeforeNext > 0) throw new LoginDelayedError(blocked.msBeforeNext);
    const { consumedPoints: failures } = await this.#failures.consume(key);
    const delayMs = this.delayAfter(failures);
    if (delayMs > 0) await this.#delays.block(key, delayMs / 1000);
    return { failures, delayMs };
  }

  /**
   * The attempt for `name` failed: its delay (if it earned one) starts again from now, so the
   * time the password check took does not shorten it.
   */
  async failed(name: string): Promise<void> {
    const key = userNameKey(name);
    const counted = await this.#failures.get(key);
    const delayMs = this.delayAfter(counted?.consumedPoints ?? 0);
    if (delayMs > 0) await this.#delays.block(key, delayMs / 1000);
  }

  /** The attempt for `name` succeeded: its failures and any delay are forgotten. */
  async succeeded(name: string): Promise<void> {
    const key = userNameKey(name);
    await Promise.all([this.#failures.delete(key), this.#delays.delete(key)]);
  }
}

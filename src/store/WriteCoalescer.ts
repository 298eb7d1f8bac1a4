/**
 * Runs a file write at most once at a time and lets every change made meanwhile ride on the next one.
 *
 * Callers change the in-memory data, then `await request()`. The first request starts a write on the
 * next microtask, so every change made in the same tick is in it; requests made while that write is
 * in flight join one batch, served by the single write that starts when the current one ends. A
 * caller's promise therefore resolves only after a write that began after its change has completed.
 */
export class WriteCoalescer {
  readonly #write: () => Promise<void>;
  #next: { promise: Promise<void>; resolve: () => void; reject: (err: unknown) => void } | undefined;
  #draining: Promise<void> | undefined;
  #writes = 0;

  /**
   * @param write Writes the current state. It must take its snapshot synchronously, before its first
   *   `await`: changes made after that belong to the next write.
   */
  constructor(write: () => Promise<void>) {
    this.#write = write;
  }

  /** Completed writes so far (failed ones not counted). */
  get writes(): number {
    return this.#writes;
  }

  /**
   * Asks for the current state to be written.
   * @returns resolves once a write that includes every change made before this call has completed;
   *   rejects with that write's error (the data stays in memory and goes out with the next write).
   */
  request(): Promise<void> {
    if (!this.#next) {
      let resolve!: () => void;
      let reject!: (err: unknown) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      this.#next = { promise, resolve, reject };
    }
    const { promise } = this.#next;
    this.#draining ??= this.#drain();
    return promise;
  }

  /** Resolves when no write is in flight or waiting; never rejects. */
  idle(): Promise<void> {
    return this.#draining ?? Promise.resolve();
  }

  async #drain(): Promise<void> {
    // let the rest of this tick's changes join the first write
    await Promise.resolve();
    while (this.#next) {
      const batch = this.#next;
      this.#next = undefined;
      try {
        await this.#write();
        this.#writes++;
        batch.resolve();
      } catch (err) {
        batch.reject(err);
      }
    }
    this.#draining = undefined;
  }
}

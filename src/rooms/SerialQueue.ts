/**
 * Runs async tasks one at a time in the order they were pushed, so that changes to one room
 * (joins, leaves, going live, publishing) never interleave across their awaits.
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();
  #pending = 0;

  /** Tasks pushed and not yet settled. */
  get pending(): number {
    return this.#pending;
  }

  /** Runs `task` after every task pushed before it has settled; settles like `task`. */
  push<T>(task: () => Promise<T>): Promise<T> {
    this.#pending++;
    const run = this.#tail.then(task).finally(() => this.#pending--);
    this.#tail = run.catch(() => undefined);
    return run;
  }
}

/** Records per cached chunk: re-encoding one costs well under a millisecond. */
const CHUNK = 500;

/**
 * An array of records whose JSON text is cached in chunks of CHUNK records, so writing the store
 * after one change re-encodes one chunk instead of the whole array (10,000 users took 10–40 ms to
 * stringify here, which would stall the event loop on every write).
 *
 * Change records only through `push()`, `changed()` and `replace()`, or the cache goes stale.
 */
export class JsonChunks<T> {
  #items: T[];
  #text: (string | undefined)[] = [];

  constructor(items: T[]) {
    this.#items = items;
  }

  /** The records, in order. Do not mutate; use the methods below. */
  get items(): readonly T[] {
    return this.#items;
  }

  push(item: T): void {
    this.#items.push(item);
    this.#text[Math.floor((this.#items.length - 1) / CHUNK)] = undefined;
  }

  /** Marks the record at `index` as changed in place. */
  changed(index: number): void {
    this.#text[Math.floor(index / CHUNK)] = undefined;
  }

  /** Replaces every record (e.g. after a filter). */
  replace(items: T[]): void {
    this.#items = items;
    this.#text = [];
  }

  /** The array as compact JSON text, e.g. `[{"id":"a"},{"id":"b"}]`. */
  toJsonText(): string {
    const parts: string[] = [];
    for (let c = 0; c * CHUNK < this.#items.length; c++) {
      const text = (this.#text[c] ??= JSON.stringify(this.#items.slice(c * CHUNK, (c + 1) * CHUNK)).slice(
        1,
        -1,
      ));
      parts.push(text);
    }
    this.#text.length = parts.length;
    return `[${parts.join(',')}]`;
  }
}

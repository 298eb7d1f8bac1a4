/**
 * One source and the sinks it feeds, switched together: `setSource(x)` connects every sink to `x`,
 * `addSink(s)` connects `s` to the current source. Each sink is connected to each source exactly
 * once: the mark is set before the `connect` is sent, so a sink appearing while the source changes
 * (both async) is connected by whichever side comes second.
 *
 * Switching is by `connect` alone. On KMS 7.3 a new source connected to a sink replaces the old
 * one; disconnecting the old source afterwards would unlink the sink (shared/kms-protocol/README.md,
 * scenario 2), so the old source is never disconnected, only released by its owner.
 *
 * Used for the program (what viewers and egress get) and for each stage feed (what other stage
 * members and mixer ports get from it).
 */
import type { Logger } from '../logger.js';
import type { MediaElement } from './elements/MediaElement.js';

export class ProgramSwitch {
  readonly #log: Logger;
  #source: MediaElement | undefined;
  /** Each sink and the source it is connected from (or being connected from). */
  readonly #fedBy = new Map<MediaElement, MediaElement | undefined>();

  constructor(log: Logger) {
    this.#log = log;
  }

  /** The element sinks are (being) connected from, if any. */
  get source(): MediaElement | undefined {
    return this.#source;
  }

  /** The sinks, for tests and docs: what this switch feeds. */
  get sinks(): MediaElement[] {
    return [...this.#fedBy.keys()];
  }

  /**
   * Makes `source` the source of every sink (undefined: no source; sinks keep what they have until
   * there is one). Resolves when every sink is connected; a sink that fails is logged and left
   * for the next switch.
   */
  async setSource(source: MediaElement | undefined): Promise<void> {
    this.#source = source;
    if (!source) return;
    await Promise.all([...this.#fedBy.keys()].map((sink) => this.#feed(sink, source)));
  }

  /**
   * Adds `sink` and connects it to the current source, if any.
   * @throws MediaError, MediaUnavailableError when that connect fails (the sink stays, unfed).
   */
  async addSink(sink: MediaElement): Promise<void> {
    if (!this.#fedBy.has(sink)) this.#fedBy.set(sink, undefined);
    const source = this.#source;
    if (source) await this.#feed(sink, source, true);
  }

  /** Forgets `sink` (its owner releases it; nothing is disconnected). */
  removeSink(sink: MediaElement): void {
    this.#fedBy.delete(sink);
  }

  async #feed(sink: MediaElement, source: MediaElement, rethrow = false): Promise<void> {
    if (!this.#fedBy.has(sink) || this.#fedBy.get(sink) === source) return;
    this.#fedBy.set(sink, source);
    try {
      await source.connect(sink);
    } catch (err) {
      if (this.#fedBy.get(sink) === source) this.#fedBy.set(sink, undefined);
      if (rethrow) throw err;
      this.#log.warn({ err, source: source.id, sink: sink.id }, 'could not connect a sink to its source');
    }
  }
}

/**
 * A stage member's contribution: the endpoint its media enters KMS through (a browser's
 * WebRtcEndpoint, or an RtpEndpoint fed by the RTMP bridge or a PC client), and, while face
 * detection is on, a FaceOverlayFilter behind it. `output` is what everything downstream (the
 * program, mixer ports, other stage members) is connected from; when it changes, the feed's switch
 * moves every sink to the new output (no sink renegotiates).
 */
import type { Logger } from '../logger.js';
import type { FaceOverlay } from './elements/FaceOverlayFilter.js';
import { FaceOverlayFilter } from './elements/FaceOverlayFilter.js';
import type { MediaElement } from './elements/MediaElement.js';
import type { KmsConnection } from './KmsConnection.js';
import type { KmsObject } from './KmsObject.js';
import type { ProgramSwitch } from './ProgramSwitch.js';

/** Where a feed's media enters KMS, and how to let go of it. */
export interface FeedSource {
  /** The connection id (a browser connection's, or `rtp:<feedId>`). */
  readonly key: string;
  /** The endpoint media arrives at, negotiated already. */
  readonly element: MediaElement;
  /** Stops the source; releases the endpoint unless `release` is false (the pipeline goes with it). */
  close(release: boolean): void;
}

export class StageFeed {
  readonly feedId: string;
  /** Where the feed comes from. */
  readonly source: FeedSource;
  readonly #kms: KmsConnection;
  readonly #pipeline: KmsObject;
  readonly #out: ProgramSwitch;
  readonly #log: Logger;
  #filter: FaceOverlayFilter | undefined;
  #closed = false;

  /**
   * @param source negotiated already
   * @param out the switch of everything this feed feeds; it outlives the feed (a member who
   *   publishes again gets a new StageFeed on the same switch)
   */
  constructor(
    kms: KmsConnection,
    pipeline: KmsObject,
    feedId: string,
    source: FeedSource,
    out: ProgramSwitch,
    log: Logger,
  ) {
    this.#kms = kms;
    this.#pipeline = pipeline;
    this.feedId = feedId;
    this.source = source;
    this.#out = out;
    this.#log = log.child({ feedId });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** True while a FaceOverlayFilter is in the chain. */
  get faceOverlay(): boolean {
    return this.#filter !== undefined;
  }

  /** The element downstream sinks are connected from: the filter when there is one, else the endpoint. */
  get output(): MediaElement {
    return this.#filter ?? this.source.element;
  }

  /** Connects every sink of the feed's switch to this feed's output. */
  goOnAir(): Promise<void> {
    return this.#out.setSource(this.output);
  }

  /**
   * Puts a FaceOverlayFilter drawing `overlay` behind the endpoint, or takes it out (undefined),
   * and moves the feed's sinks accordingly; the old filter is released after the sinks moved.
   * @throws MediaError, MediaUnavailableError when KMS refuses (the chain stays as it was).
   */
  async setFaceOverlay(overlay: FaceOverlay | undefined): Promise<void> {
    if (this.#closed) return;
    const endpoint = this.source.element;
    if (overlay && !this.#filter) {
      const filter = await FaceOverlayFilter.create(this.#kms, this.#pipeline);
      try {
        await filter.setOverlayedImage(overlay);
        await endpoint.connect(filter);
      } catch (err) {
        filter.release();
        throw err;
      }
      if (this.#closed) {
        filter.release();
        return;
      }
      this.#filter = filter;
      if (this.#out.source === endpoint) await this.#out.setSource(filter);
      this.#log.debug('face overlay on');
    } else if (!overlay && this.#filter) {
      const filter = this.#filter;
      this.#filter = undefined;
      if (this.#out.source === filter) await this.#out.setSource(endpoint);
      filter.release();
      this.#log.debug('face overlay off');
    }
  }

  /**
   * Releases the filter and the endpoint, unless `release` is false (the pipeline is being
   * released and takes them with it). Idempotent.
   */
  close(release = true): void {
    if (this.#closed) return;
    this.#closed = true;
    if (release) this.#filter?.release();
    this.#filter = undefined;
    this.source.close(release);
  }
}

/**
 * One browser's WebRTC connection to a WebRtcEndpoint, with the Kurento tutorials' sequence
 * (https://doc-kurento.readthedocs.io/en/latest/tutorials/node/tutorial-one2many.html):
 * remote ICE candidates are queued until the endpoint exists; `IceCandidateFound` is subscribed
 * before `processOffer`; `gatherCandidates` comes after the answer (trickle ICE, RFC 8838).
 */
import type { CandidateListener } from '../rooms/media.js';
import type { IceCandidateInit } from '../protocol/index.js';
import { InvalidStateError, MediaError } from '../errors.js';
import type { Logger } from '../logger.js';
import { WebRtcEndpoint } from './elements/WebRtcEndpoint.js';
import type { KmsConnection } from './KmsConnection.js';
import type { KmsObject } from './KmsObject.js';

/** Candidates kept for an endpoint that does not exist yet; a browser sends a few dozen at most. */
const MAX_QUEUED_CANDIDATES = 100;

export class WebRtcConnection {
  readonly key: string;
  readonly #kms: KmsConnection;
  readonly #log: Logger;
  #endpoint: WebRtcEndpoint | undefined;
  #queue: IceCandidateInit[] = [];
  #started = false;
  #closed = false;

  constructor(kms: KmsConnection, key: string, log: Logger) {
    this.#kms = kms;
    this.key = key;
    this.#log = log.child({ connection: key });
  }

  /** True once `negotiate()` was called: a new offer for this key needs a new connection. */
  get started(): boolean {
    return this.#started;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The WebRtcEndpoint, once created. */
  get endpoint(): WebRtcEndpoint | undefined {
    return this.#endpoint;
  }

  /** Adds a remote candidate now, or queues it until the endpoint exists. */
  addIceCandidate(candidate: IceCandidateInit): void {
    if (this.#closed) return;
    if (!this.#endpoint) {
      if (this.#queue.length < MAX_QUEUED_CANDIDATES) this.#queue.push(candidate);
      return;
    }
    this.#endpoint
      .addIceCandidate(candidate)
      .catch((err: unknown) => this.#log.debug({ err }, 'addIceCandidate failed'));
  }

  /**
   * Creates the WebRtcEndpoint in `pipeline`, runs `beforeOffer(endpoint)` (to connect it into the
   * graph), processes the browser's offer and starts gathering; returns the SDP answer — with
   * `complete`, only once gathering is done and with every candidate in it (WHIP, RFC 9725).
   * @throws MediaError (e.g. KMS code 40201 for an offer it cannot parse), MediaUnavailableError,
   *   InvalidStateError when closed meanwhile.
   */
  async negotiate(
    pipeline: KmsObject,
    sdpOffer: string,
    onCandidate: CandidateListener,
    beforeOffer: (endpoint: WebRtcEndpoint) => Promise<void> = () => Promise.resolve(),
    options: { complete?: boolean } = {},
  ): Promise<string> {
    if (this.#started) throw new InvalidStateError('This connection has negotiated already.');
    this.#started = true;
    const endpoint = await WebRtcEndpoint.create(this.#kms, pipeline);
    if (this.#closed) {
      endpoint.release();
      throw new InvalidStateError('The connection closed while it was being set up.');
    }
    this.#endpoint = endpoint;
    for (const c of this.#queue.splice(0)) this.addIceCandidate(c);
    endpoint.onIceCandidate((candidate) => {
      if (!this.#closed) onCandidate(candidate);
    });
    const gathered = options.complete
      ? new Promise<void>((resolve) => endpoint.onIceGatheringDone(resolve))
      : undefined;
    await beforeOffer(endpoint);
    let answer: string;
    try {
      answer = await endpoint.processOffer(sdpOffer);
    } catch (err) {
      if (err instanceof MediaError) {
        throw new MediaError(
          'The media server could not use the SDP offer of your browser. Reload and try again.',
          { kmsCode: err.kmsCode, cause: err },
        );
      }
      throw err;
    }
    if (this.#closed) throw new InvalidStateError('The connection closed while it was being set up.');
    await endpoint.gatherCandidates();
    if (!gathered) return answer;
    // a peer that does not trickle gets every candidate in the answer (bounded by the call timeout)
    await Promise.race([gathered, this.#kms.timeout('ICE gathering')]);
    if (this.#closed) throw new InvalidStateError('The connection closed while it was being set up.');
    return await endpoint.getLocalSessionDescriptor();
  }

  /**
   * Stops the connection and releases its endpoint, unless `releaseEndpoint` is false (the caller
   * releases the whole pipeline, which takes the endpoint with it). Idempotent.
   */
  close(releaseEndpoint = true): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    if (this.#endpoint && releaseEndpoint) this.#endpoint.release();
  }
}

/**
 * The program leaving KMS as RTP: an RtpEndpoint that is a sink of the program switch, so it
 * follows every switch (solo, mix, layout, face detection) like a viewer does, and sends to where
 * Theia's SDP offer says ffmpeg listens (doc/egress.md).
 */
import type { Logger } from '../logger.js';
import type { EgressHandle } from '../rooms/media.js';
import type { RtpEndpoint } from './elements/RtpEndpoint.js';
import type { ProgramSwitch } from './ProgramSwitch.js';

export class EgressPort implements EgressHandle {
  readonly sdpAnswer: string;
  readonly #endpoint: RtpEndpoint;
  readonly #program: ProgramSwitch;
  readonly #log: Logger;
  readonly #onClose: () => void;
  #closed = false;

  /** Use LivePipeline.openEgress(); `onClose` tells the owner. */
  constructor(
    endpoint: RtpEndpoint,
    sdpAnswer: string,
    program: ProgramSwitch,
    log: Logger,
    onClose: () => void,
  ) {
    this.#endpoint = endpoint;
    this.#onClose = onClose;
    this.sdpAnswer = sdpAnswer;
    this.#program = program;
    this.#log = log.child({ egress: endpoint.id });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Asks the program's source for a keyframe; failures (nothing flowing yet) are logged, not thrown. */
  async requestKeyframe(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.#endpoint.requestKeyframe();
    } catch (err) {
      this.#log.debug({ err }, 'keyframe request refused (no media yet?)');
    }
  }

  /** Takes the endpoint off the program and releases it, unless `release` is false (pipeline going). Idempotent. */
  close(release = true): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#program.removeSink(this.#endpoint);
    if (release) this.#endpoint.release();
    this.#onClose();
  }
}

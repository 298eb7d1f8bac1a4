/**
 * Keeps the host's view of a live's egress: the last `egressStatus` notification (DASH and each
 * RTMP destination, keys redacted), which the server sends on every change and to a host window
 * that joins a live room. Subscribed while the host element is connected; forgotten when the
 * room stops being live.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { EgressStatus } from '../protocol.js';
import type { SignallingController } from './SignallingController.js';

export class EgressStatusController implements ReactiveController {
  readonly #host: ReactiveControllerHost;
  readonly #signalling: () => SignallingController | undefined;
  #unsubscribe: (() => void) | undefined;
  #status: EgressStatus | undefined;

  constructor(host: ReactiveControllerHost, signalling: () => SignallingController | undefined) {
    this.#host = host;
    this.#signalling = signalling;
    host.addController(this);
  }

  /** The latest status, or undefined before the first one (or after reset()). */
  get status(): EgressStatus | undefined {
    return this.#status;
  }

  hostConnected(): void {
    this.#unsubscribe = this.#signalling()?.on('egressStatus', ({ roomId: _roomId, ...status }) => {
      this.#status = status;
      this.#host.requestUpdate();
    });
  }

  hostDisconnected(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  /** Forgets the status (the live ended). */
  reset(): void {
    this.#status = undefined;
    this.#host.requestUpdate();
  }
}

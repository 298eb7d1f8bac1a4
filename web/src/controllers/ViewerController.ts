/**
 * A viewer's receive-only RTCPeerConnection to its WebRtcEndpoint: recvonly audio and video
 * transceivers, `receiveVideo`, trickle ICE tagged `receive`. `stream` holds the receivers' tracks
 * from the start; whether video actually plays is for the <video> element to say.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { ClientErrorCode, TheiaClientError, messageOf } from '../errors.js';
import type { NotificationParams } from '../protocol.js';
import { PeerConnection } from '../webrtc/PeerConnection.js';
import type { SignallingController } from './SignallingController.js';

/** `idle`: not watching; `connecting`: negotiating or waiting for media; `failed`: see `error`. */
export type WatchState = 'idle' | 'connecting' | 'failed';

export interface ViewerOptions {
  signalling: () => SignallingController | undefined;
  iceServers: () => RTCIceServer[];
}

/** Owns a viewer's peer connection; closed on `stop()` and when the host disconnects. */
export class ViewerController implements ReactiveController {
  readonly #host: ReactiveControllerHost;
  readonly #options: ViewerOptions;
  #connected = false;
  #state: WatchState = 'idle';
  #stream: MediaStream | undefined;
  #media: RTCPeerConnectionState | undefined;
  #error: string | undefined;
  /** The server's or client's error code of the last failure (ErrorCode.WebRtcViewerLimit: go to DASH). */
  #errorCode: number | undefined;
  #connection: PeerConnection | undefined;
  #unsubscribe: (() => void) | undefined;
  #unsubscribeClose: (() => void) | undefined;

  constructor(host: ReactiveControllerHost, options: ViewerOptions) {
    this.#host = host;
    this.#options = options;
    host.addController(this);
  }

  get state(): WatchState {
    return this.#state;
  }
  /** The remote audio and video, for a <video> element's `srcObject`. */
  get stream(): MediaStream | undefined {
    return this.#stream;
  }
  get media(): RTCPeerConnectionState | undefined {
    return this.#media;
  }
  get error(): string | undefined {
    return this.#error;
  }
  get errorCode(): number | undefined {
    return this.#errorCode;
  }

  hostConnected(): void {
    this.#connected = true;
    // the server releases a viewer's endpoint with its socket: watching again is a new connection
    this.#unsubscribeClose = this.#options.signalling()?.onClose(() => this.stop());
  }

  hostDisconnected(): void {
    this.#connected = false;
    this.#unsubscribeClose?.();
    this.#unsubscribeClose = undefined;
    this.stop();
  }

  /** Starts receiving the live (no-op when already watching). */
  async watch(): Promise<void> {
    const signalling = this.#options.signalling();
    if (this.#connection || !signalling || !this.#connected) return;
    const connection = new PeerConnection({
      signalling,
      endpoint: 'receive',
      iceServers: this.#options.iceServers(),
      onStateChange: (state) => {
        this.#media = state;
        if (state === 'failed') {
          this.#state = 'failed';
          this.#error = 'The video connection failed. Reload the page to try again.';
        }
        this.#update();
      },
    });
    this.#connection = connection;
    this.#unsubscribe = signalling.on('mediaError', (p) => this.#onMediaError(p));
    connection.pc.addTransceiver('video', { direction: 'recvonly' });
    connection.pc.addTransceiver('audio', { direction: 'recvonly' });
    this.#stream = new MediaStream(connection.pc.getReceivers().map((r) => r.track));
    this.#media = connection.pc.connectionState;
    this.#state = 'connecting';
    this.#error = undefined;
    this.#errorCode = undefined;
    this.#update();
    try {
      await connection.negotiate('receiveVideo');
    } catch (err) {
      if (connection.closed || (err instanceof TheiaClientError && err.code === ClientErrorCode.Aborted))
        return;
      this.#close();
      this.#state = 'failed';
      this.#error = messageOf(err);
      this.#errorCode = err instanceof TheiaClientError ? err.code : undefined;
      this.#update();
    }
  }

  /** Closes the peer connection and forgets the stream. Idempotent. */
  stop(): void {
    this.#close();
    this.#state = 'idle';
    this.#error = undefined;
    this.#update();
  }

  #onMediaError({ endpoint, message }: NotificationParams['mediaError']): void {
    if (endpoint !== undefined && endpoint !== 'receive') return;
    this.#error = message;
    this.#update();
  }

  #close(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    if (this.#connection && !this.#connection.closed) {
      // the server keeps the endpoint until told (e.g. a guest going on stage stops watching the program)
      this.#options
        .signalling()
        ?.request('stopReceiving', { endpoint: 'receive' })
        .catch(() => undefined); // the live or the socket may be gone already: nothing to release then
    }
    this.#connection?.close();
    this.#connection = undefined;
    this.#stream = undefined;
    this.#media = undefined;
  }

  #update(): void {
    if (this.#connected) this.#host.requestUpdate();
  }
}

/**
 * A stage member's camera: the camera and microphone (getUserMedia), and the send-only
 * RTCPeerConnection to its WebRtcEndpoint. The host's `goLive()` is `startLive` then
 * `publishVideo` with the camera tracks, and `stop()` is `stopLive`; a guest the host accepted
 * only publishes (`publishStage()`, `unpublish()`). The camera stays on between lives for the preview.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { fetchMediaConfig } from '../api/api.js';
import { ClientErrorCode, RpcError, TheiaClientError, messageOf } from '../errors.js';
import { ErrorCode, type NotificationParams } from '../protocol.js';
import { endReasonText } from '../text.js';
import { PeerConnection } from '../webrtc/PeerConnection.js';
import { preferVideoCodec } from '../webrtc/codecPreferences.js';
import type { SignallingController } from './SignallingController.js';

/** The camera: `failed` leaves the reason in `cameraError`. */
export type CameraState = 'off' | 'starting' | 'on' | 'failed';

/**
 * The host's live, as this window knows it. `live` means the server answered `publishVideo`;
 * `reconnecting`: the signalling socket dropped while live, and the server may keep the live for
 * its grace period until this window joins again (see {@link PublisherController.rejoined}).
 */
export type PublishState = 'offline' | 'starting' | 'live' | 'stopping' | 'reconnecting';

export interface PublisherOptions {
  signalling: () => SignallingController | undefined;
  iceServers: () => RTCIceServer[];
}

/** Says what to do about a getUserMedia failure (W3C Media Capture, DOMException names). */
function cameraErrorText(err: unknown): string {
  const name = err instanceof DOMException ? err.name : '';
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return 'Camera and microphone are blocked. Allow them for this site (the icon in the address bar), then try again.';
    case 'NotFoundError':
    case 'OverconstrainedError':
      return 'No camera or microphone was found. Connect one and try again.';
    case 'NotReadableError':
    case 'AbortError':
      return 'The camera or microphone is busy (another app may be using it). Close that app and try again.';
    default:
      return `The camera could not start: ${messageOf(err)}`;
  }
}

/** Owns the host's camera stream and publishing peer connection; released when the host disconnects. */
export class PublisherController implements ReactiveController {
  readonly #host: ReactiveControllerHost;
  readonly #options: PublisherOptions;
  #connected = false;
  #stream: MediaStream | undefined;
  #camera: CameraState = 'off';
  #cameraError: string | undefined;
  #state: PublishState = 'offline';
  #media: RTCPeerConnectionState | undefined;
  #error: string | undefined;
  #notice: string | undefined;
  #connection: PeerConnection | undefined;
  /** Bumped by every go-live and stop, so a stale attempt notices it was overtaken. */
  #attempt = 0;
  #unsubscribe: Array<() => void> = [];
  /** The server said this window carries the live's camera, and the camera is not on yet. */
  #resumeWanted = false;

  constructor(host: ReactiveControllerHost, options: PublisherOptions) {
    this.#host = host;
    this.#options = options;
    host.addController(this);
  }

  get stream(): MediaStream | undefined {
    return this.#stream;
  }
  get camera(): CameraState {
    return this.#camera;
  }
  get cameraError(): string | undefined {
    return this.#cameraError;
  }
  get state(): PublishState {
    return this.#state;
  }
  /** `connectionState` of the publishing peer connection; undefined when there is none. */
  get media(): RTCPeerConnectionState | undefined {
    return this.#media;
  }
  /** The last failure (server error, `mediaError`), for the person to read. */
  get error(): string | undefined {
    return this.#error;
  }
  /** How the last live ended when this window did not end it. */
  get notice(): string | undefined {
    return this.#notice;
  }

  hostConnected(): void {
    this.#connected = true;
    const signalling = this.#options.signalling();
    if (signalling) {
      this.#unsubscribe = [
        signalling.on('liveEnded', (p) => this.#onLiveEnded(p)),
        signalling.on('mediaError', (p) => this.#onMediaError(p)),
        signalling.onClose(() => this.#onSocketLost()),
      ];
    }
    void this.startCamera();
  }

  hostDisconnected(): void {
    this.#connected = false;
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    this.#unsubscribe = [];
    this.#attempt++;
    this.#resumeWanted = false;
    this.#closeConnection();
    this.#state = 'offline';
    this.#stopCamera();
  }

  /** Turns the camera and microphone on for the preview (again, after a failure). */
  async startCamera(): Promise<void> {
    if (this.#camera === 'starting' || this.#camera === 'on') return;
    this.#camera = 'starting';
    this.#cameraError = undefined;
    this.#update();
    try {
      if (!navigator.mediaDevices?.getUserMedia) {
        throw new TheiaClientError(
          ClientErrorCode.Aborted,
          'This page cannot use the camera: open it over https:// (or on localhost).',
        );
      }
      const stream = await navigator.mediaDevices.getUserMedia({
        audio: true,
        video: { width: 1280, height: 720 },
      });
      if (!this.#connected) {
        for (const track of stream.getTracks()) track.stop();
        return;
      }
      this.#stream = stream;
      this.#camera = 'on';
      if (this.#resumeWanted) queueMicrotask(() => void this.#resume());
    } catch (err) {
      if (!this.#connected) return;
      this.#camera = 'failed';
      this.#cameraError = err instanceof TheiaClientError ? err.message : cameraErrorText(err);
    }
    this.#update();
  }

  /** `startLive`, then sends the camera with `publishVideo`. Errors end up in `error`. */
  async goLive(): Promise<void> {
    const signalling = this.#options.signalling();
    const stream = this.#stream;
    if (this.#state !== 'offline' || !stream || !signalling) return;
    const attempt = ++this.#attempt;
    this.#state = 'starting';
    this.#error = undefined;
    this.#notice = undefined;
    this.#update();
    let started = false;
    try {
      await signalling.request('startLive', {});
      started = true;
      if (attempt !== this.#attempt) return;
      await this.#publish(signalling, stream);
      if (attempt !== this.#attempt) return;
      this.#state = 'live';
    } catch (err) {
      if (attempt !== this.#attempt) return;
      this.#closeConnection();
      this.#state = 'offline';
      this.#error = messageOf(err);
      // a live without the host's video would leave viewers waiting: end it
      if (started) signalling.request('stopLive', {}).catch(() => undefined);
    } finally {
      this.#update();
    }
  }

  /**
   * A guest on the stage sends its camera (`publishVideo`; the host's live runs already). Errors end
   * up in `error`, and it may be called again.
   */
  async publishStage(): Promise<void> {
    const signalling = this.#options.signalling();
    const stream = this.#stream;
    if (this.#state !== 'offline' || !stream || !signalling) return;
    const attempt = ++this.#attempt;
    this.#state = 'starting';
    this.#error = undefined;
    this.#notice = undefined;
    this.#update();
    try {
      await this.#publish(signalling, stream);
      if (attempt !== this.#attempt) return;
      this.#state = 'live';
    } catch (err) {
      if (attempt !== this.#attempt) return;
      this.#closeConnection();
      this.#state = 'offline';
      this.#error = messageOf(err);
    } finally {
      this.#update();
    }
  }

  /** Stops sending (a guest left the stage); the server releases its side. The camera stays on. */
  unpublish(): void {
    this.#attempt++;
    this.#closeConnection();
    this.#state = 'offline';
    this.#update();
  }

  async #publish(signalling: SignallingController, stream: MediaStream): Promise<void> {
    const connection = new PeerConnection({
      signalling,
      endpoint: 'publish',
      iceServers: this.#options.iceServers(),
      onStateChange: (state) => {
        this.#media = state;
        this.#update();
      },
    });
    this.#connection = connection;
    this.#media = connection.pc.connectionState;
    // the server's preferred codec (H.264: no transcoding for the egress); VP8 etc. stay as fallbacks
    const { publishVideoCodec } = await fetchMediaConfig().catch(() => ({
      publishVideoCodec: 'any' as const,
    }));
    for (const track of stream.getTracks()) {
      const transceiver = connection.pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
      if (track.kind === 'video') preferVideoCodec(transceiver, publishVideoCodec);
    }
    await connection.negotiate('publishVideo');
  }

  /** Ends the live (`stopLive`) and closes the peer connection; the camera stays on. */
  async stop(): Promise<void> {
    const signalling = this.#options.signalling();
    if (this.#state === 'offline' || this.#state === 'stopping' || !signalling) return;
    this.#attempt++;
    this.#state = 'stopping';
    this.#error = undefined;
    this.#update();
    try {
      await signalling.request('stopLive', {});
    } catch (err) {
      // "not live" means it has ended already, which is what we wanted
      if (!(err instanceof RpcError && err.code === (ErrorCode.InvalidState as number)))
        this.#error = messageOf(err);
    } finally {
      this.#closeConnection();
      this.#state = 'offline';
      this.#update();
    }
  }

  /** Ends a live another window of this user started (the server allows it to the owner). */
  async stopElsewhere(): Promise<void> {
    const signalling = this.#options.signalling();
    if (!signalling) return;
    this.#error = undefined;
    try {
      await signalling.request('stopLive', {});
    } catch (err) {
      this.#error = messageOf(err);
    }
    this.#update();
  }

  /**
   * The room page joined again (new socket, or a new window): `publishing` is `joinRoom`'s answer
   * — true when the server kept the live through its grace period and this connection carries its
   * camera now, so the camera is sent again (`publishVideo`, same stream, no `startLive`). A window
   * that was live and is not told so learns that the live ended while it was away.
   */
  rejoined(publishing: boolean): void {
    if (publishing) {
      if (this.#state === 'offline' || this.#state === 'reconnecting') void this.#resume();
      return;
    }
    if (this.#state === 'reconnecting') this.#endLocally(undefined, endReasonText('hostLeft'));
  }

  async #resume(): Promise<void> {
    const signalling = this.#options.signalling();
    const stream = this.#stream;
    if (!signalling) return;
    if (!stream) {
      this.#resumeWanted = true; // sent once the camera is on
      this.#state = 'reconnecting';
      this.#update();
      return;
    }
    this.#resumeWanted = false;
    const attempt = ++this.#attempt;
    this.#closeConnection();
    this.#state = 'starting';
    this.#error = undefined;
    this.#notice = undefined;
    this.#update();
    try {
      await this.#publish(signalling, stream);
      if (attempt !== this.#attempt) return;
      this.#state = 'live';
    } catch (err) {
      if (attempt !== this.#attempt) return;
      this.#closeConnection();
      this.#state = 'offline';
      this.#error = messageOf(err);
      // a live without the host's video would leave viewers waiting: end it
      signalling.request('stopLive', {}).catch(() => undefined);
    } finally {
      this.#update();
    }
  }

  /**
   * The socket dropped: the publishing connection's endpoint is the server's to keep or release,
   * so this one is closed; the camera stays on for {@link rejoined}.
   */
  #onSocketLost(): void {
    if (this.#state === 'offline') return;
    this.#attempt++;
    this.#closeConnection();
    this.#state = this.#state === 'stopping' ? 'offline' : 'reconnecting';
    this.#update();
  }

  #onLiveEnded({ reason }: NotificationParams['liveEnded']): void {
    if (this.#state === 'offline' || this.#state === 'stopping') return; // ours, or not ours
    this.#endLocally(undefined, endReasonText(reason));
  }

  #onMediaError({ endpoint, message }: NotificationParams['mediaError']): void {
    if (endpoint !== undefined && endpoint !== 'publish') return;
    this.#error = message;
    this.#update();
  }

  #endLocally(error?: string, notice?: string): void {
    if (this.#state === 'offline') return;
    this.#attempt++;
    this.#closeConnection();
    this.#state = 'offline';
    if (error) this.#error = error;
    if (notice) this.#notice = notice;
    this.#update();
  }

  #closeConnection(): void {
    this.#connection?.close();
    this.#connection = undefined;
    this.#media = undefined;
  }

  #stopCamera(): void {
    for (const track of this.#stream?.getTracks() ?? []) track.stop();
    this.#stream = undefined;
    this.#camera = 'off';
  }

  #update(): void {
    if (this.#connected) this.#host.requestUpdate();
  }
}

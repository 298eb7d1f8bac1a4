/**
 * One RTCPeerConnection to a Kurento WebRtcEndpoint, negotiated through the signalling socket:
 * the browser makes the offer (`publishVideo`/`receiveVideo` → SDP answer), and ICE candidates
 * trickle both ways (RFC 8838) with `onIceCandidate` and the `iceCandidate` notification, tagged
 * with the endpoint kind (`publish`, `receive`, or `receive:<userId>` for a stage member watched
 * directly). Remote candidates that arrive before the answer is applied are queued: the server
 * starts gathering before it answers. (The server's own class of this name is the KMS side of the
 * same connection.)
 */
import type { SignallingController } from '../controllers/SignallingController.js';
import { ClientErrorCode, TheiaClientError } from '../errors.js';
import type { EndpointKind } from '../protocol.js';

export interface PeerConnectionOptions {
  signalling: SignallingController;
  endpoint: EndpointKind;
  /** STUN/TURN servers from the server's config. */
  iceServers: RTCIceServer[];
  /** Called on every change of `connectionState`. */
  onStateChange: (state: RTCPeerConnectionState) => void;
}

/** A browser peer connection with its signalling; `close()` is idempotent. */
export class PeerConnection {
  readonly pc: RTCPeerConnection;
  readonly #signalling: SignallingController;
  readonly #endpoint: EndpointKind;
  readonly #unsubscribe: () => void;
  #pendingCandidates: RTCIceCandidateInit[] = [];
  #answered = false;
  #closed = false;

  constructor({ signalling, endpoint, iceServers, onStateChange }: PeerConnectionOptions) {
    this.#signalling = signalling;
    this.#endpoint = endpoint;
    this.pc = new RTCPeerConnection({ iceServers });
    this.pc.addEventListener('icecandidate', (event) => this.#onLocalCandidate(event.candidate));
    this.pc.addEventListener('connectionstatechange', () => {
      if (!this.#closed) onStateChange(this.pc.connectionState);
    });
    this.#unsubscribe = signalling.on('iceCandidate', ({ endpoint: kind, candidate }) => {
      if (kind !== endpoint || this.#closed) return;
      if (this.#answered) this.#addRemoteCandidate(candidate);
      else this.#pendingCandidates.push(candidate);
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Makes the offer, sends it with `method`, applies the answer and the candidates that came early.
   * Add the transceivers first. `from`: with `receiveVideo`, the stage member to watch directly
   * (the endpoint kind must then be `receive:<from>`); without it, the program.
   * @throws RpcError from the server (e.g. MediaError for an offer KMS rejects); TheiaClientError
   *   with ClientErrorCode.Aborted when closed meanwhile.
   */
  async negotiate(method: 'publishVideo' | 'receiveVideo', from?: string): Promise<void> {
    const offer = await this.pc.createOffer();
    this.#assertOpen();
    await this.pc.setLocalDescription(offer);
    this.#assertOpen();
    const sdpOffer = this.pc.localDescription?.sdp ?? offer.sdp ?? '';
    const { sdpAnswer } =
      method === 'receiveVideo' && from !== undefined
        ? await this.#signalling.request(method, { sdpOffer, from })
        : await this.#signalling.request(method, { sdpOffer });
    this.#assertOpen();
    await this.pc.setRemoteDescription({ type: 'answer', sdp: sdpAnswer });
    this.#assertOpen();
    this.#answered = true;
    for (const candidate of this.#pendingCandidates.splice(0)) this.#addRemoteCandidate(candidate);
  }

  /** Stops listening and closes the peer connection. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe();
    this.#pendingCandidates = [];
    this.pc.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new TheiaClientError(ClientErrorCode.Aborted, 'The connection was closed.');
  }

  #onLocalCandidate(candidate: RTCIceCandidate | null): void {
    // null (and Firefox's empty candidate) mark the end of gathering; KMS needs no such marker
    if (this.#closed || !candidate?.candidate) return;
    const { sdpMid, sdpMLineIndex } = candidate;
    this.#signalling
      .request('onIceCandidate', {
        endpoint: this.#endpoint,
        candidate: { candidate: candidate.candidate, sdpMid, sdpMLineIndex },
      })
      .catch((err: unknown) => {
        // a candidate sent as the live ends is refused; the connection is going away anyway
        if (!this.#closed) console.debug('signalling: onIceCandidate failed', err);
      });
  }

  #addRemoteCandidate(candidate: RTCIceCandidateInit): void {
    this.pc.addIceCandidate(candidate).catch((err: unknown) => {
      if (!this.#closed) console.warn('webrtc: could not add a remote ICE candidate', candidate, err);
    });
  }
}

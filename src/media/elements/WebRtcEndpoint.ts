/**
 * A KMS WebRtcEndpoint (module-elements, kmd/elements.WebRtcEndpoint.kmd.json): SDP offer/answer
 * (RFC 8829) and trickle ICE (RFC 8838) with one browser.
 */
import type { IceCandidateInit } from '../../protocol/index.js';
import type { KmsConnection } from '../KmsConnection.js';
import type { KmsObject } from '../KmsObject.js';
import { MediaElement } from './MediaElement.js';

/** The `candidate` field of KMS's IceCandidateFound event (kurento IceCandidate complex type). */
interface KmsIceCandidate {
  candidate: string;
  sdpMid: string;
  sdpMLineIndex: number;
}

export class WebRtcEndpoint extends MediaElement {
  /**
   * Creates a WebRtcEndpoint in `pipeline`.
   * @throws MediaError, MediaUnavailableError.
   */
  static async create(kms: KmsConnection, pipeline: KmsObject): Promise<WebRtcEndpoint> {
    return new WebRtcEndpoint(kms, await kms.create(pipeline, 'WebRtcEndpoint'));
  }

  /** Subscribes to `IceCandidateFound`: call before processOffer (the Kurento tutorials' order). */
  onIceCandidate(listener: (candidate: IceCandidateInit) => void): void {
    this.object.on('IceCandidateFound', (event: { candidate: KmsIceCandidate }) => {
      const { candidate, sdpMid, sdpMLineIndex } = event.candidate;
      listener({ candidate, sdpMid, sdpMLineIndex });
    });
  }

  /**
   * Processes the browser's SDP offer and returns KMS's answer.
   * @throws MediaError (40201 SDP_PARSE_ERROR for an offer KMS cannot parse, 40208 when negotiated already).
   */
  processOffer(sdpOffer: string): Promise<string> {
    return this.kms.invoke<string>(this.object, 'processOffer', [sdpOffer]);
  }

  /** Starts gathering local candidates; each arrives as IceCandidateFound. */
  gatherCandidates(): Promise<void> {
    return this.kms.invoke(this.object, 'gatherCandidates');
  }

  /** Subscribes to `IceGatheringDone`: every local candidate has been found (call before gathering). */
  onIceGatheringDone(listener: () => void): void {
    this.object.on('IceGatheringDone', () => listener());
  }

  /**
   * KMS's local SDP, with every candidate gathered so far in it (`getLocalSessionDescriptor`,
   * module-core SdpEndpoint): a complete answer for peers that do not trickle (WHIP, RFC 9725).
   */
  getLocalSessionDescriptor(): Promise<string> {
    return this.kms.invoke<string>(this.object, 'getLocalSessionDescriptor');
  }

  /** Hands a remote candidate to KMS (KMS accepts any candidate string). */
  addIceCandidate(candidate: IceCandidateInit): Promise<void> {
    return this.kms.addIceCandidate(this.object, candidate);
  }
}

/**
 * A KMS RtpEndpoint (module-elements, kmd/elements.RtpEndpoint.kmd.json): plain RTP/RTCP described
 * by SDP (RFC 8866), for ffmpeg on the other side. KMS answers an offer keeping its payload types
 * and advertises its host's first non-loopback address while listening on all addresses
 * (shared/kms-protocol/README.md).
 */
import type { KmsConnection } from '../KmsConnection.js';
import type { KmsObject } from '../KmsObject.js';
import { MediaElement } from './MediaElement.js';

export class RtpEndpoint extends MediaElement {
  /** Creates an RtpEndpoint in `pipeline`. @throws MediaError, MediaUnavailableError. */
  static async create(kms: KmsConnection, pipeline: KmsObject): Promise<RtpEndpoint> {
    return new RtpEndpoint(kms, await kms.create(pipeline, 'RtpEndpoint'));
  }

  /**
   * Processes an SDP offer (e.g. Theia's egress offer: where ffmpeg listens) and returns KMS's answer.
   * @throws MediaError (40201 for an SDP KMS cannot parse, 40208 when negotiated already).
   */
  processOffer(sdpOffer: string): Promise<string> {
    return this.kms.invoke<string>(this.object, 'processOffer', [sdpOffer]);
  }

  /**
   * Asks the source feeding this endpoint for a keyframe (so a new ffmpeg can start a segment at
   * once). KMS 7.3 answers 40111 on an endpoint that receives no media from a source yet.
   * @throws MediaError, MediaUnavailableError.
   */
  requestKeyframe(): Promise<void> {
    return this.kms.invoke(this.object, 'requestKeyframe');
  }
}

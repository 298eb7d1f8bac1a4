/**
 * A KMS FaceOverlayFilter (module-filters, kmd/filters.FaceOverlayFilter.kmd.json): detects faces
 * (OpenCV Haar cascades in KMS) and draws an image over each. KMS fetches the image URL itself when
 * `setOverlayedImage` is called; a bad URL still answers null (shared/kms-protocol/README.md).
 */
import type { KmsConnection } from '../KmsConnection.js';
import type { KmsObject } from '../KmsObject.js';
import { MediaElement } from './MediaElement.js';

/** The image and where it goes, as fractions of the detected face box (may be negative or > 1). */
export interface FaceOverlay {
  uri: string;
  offsetXPercent: number;
  offsetYPercent: number;
  widthPercent: number;
  heightPercent: number;
}

export class FaceOverlayFilter extends MediaElement {
  /** Creates a FaceOverlayFilter in `pipeline`. @throws MediaError, MediaUnavailableError. */
  static async create(kms: KmsConnection, pipeline: KmsObject): Promise<FaceOverlayFilter> {
    return new FaceOverlayFilter(kms, await kms.create(pipeline, 'FaceOverlayFilter'));
  }

  /** Sets the image drawn over every face. @throws MediaError, MediaUnavailableError. */
  setOverlayedImage(o: FaceOverlay): Promise<void> {
    return this.kms.invoke(this.object, 'setOverlayedImage', [
      o.uri,
      o.offsetXPercent,
      o.offsetYPercent,
      o.widthPercent,
      o.heightPercent,
    ]);
  }
}

/**
 * The face-detection overlay: the image the app serves for KMS to fetch, and where the
 * FaceOverlayFilter draws it relative to each detected face.
 */
import type { FaceOverlay } from './elements/FaceOverlayFilter.js';

/** Where the app serves the overlay image (a PNG shipped in `assets/`); KMS GETs it over HTTP. */
export const FACE_OVERLAY_PATH = '/media/face-overlay.png';

/**
 * The image's place as fractions of the face box: the Kurento magic-mirror tutorial's hat
 * (https://doc-kurento.readthedocs.io/en/latest/tutorials/node/tutorial-magicmirror.html):
 * 0.35 of a face to the left, 1.2 faces above, 1.6 faces wide and high.
 */
export const FACE_OVERLAY_PLACEMENT: Omit<FaceOverlay, 'uri'> = {
  offsetXPercent: -0.35,
  offsetYPercent: -1.2,
  widthPercent: 1.6,
  heightPercent: 1.6,
};

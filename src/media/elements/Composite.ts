/**
 * A KMS Composite (module-elements, kmd/elements.Composite.kmd.json): mixes its inputs into a grid.
 * KMS 7.2+ takes the output size and frame rate at creation; without them it mixes at 800×600 and
 * 15 fps (shared/kms-protocol/README.md).
 */
import type { KmsConnection } from '../KmsConnection.js';
import type { KmsObject } from '../KmsObject.js';
import { Hub } from './Hub.js';

/** Output of a Composite: px and frames per second. */
export interface CompositeSize {
  width: number;
  height: number;
  framerate: number;
}

export class Composite extends Hub {
  readonly size: CompositeSize;

  private constructor(kms: KmsConnection, object: KmsObject, pipeline: KmsObject, size: CompositeSize) {
    super(kms, object, pipeline);
    this.size = size;
  }

  /**
   * Creates a Composite in `pipeline` mixing at `size`.
   * @throws TypeError for a size that is not positive whole numbers; MediaError, MediaUnavailableError.
   */
  static async create(kms: KmsConnection, pipeline: KmsObject, size: CompositeSize): Promise<Composite> {
    for (const [name, value] of Object.entries(size)) {
      if (!Number.isInteger(value) || value <= 0)
        throw new TypeError(`Composite ${name} must be a positive integer, got ${String(value)}`);
    }
    const object = await kms.create(pipeline, 'Composite', { ...size });
    return new Composite(kms, object, pipeline, size);
  }
}

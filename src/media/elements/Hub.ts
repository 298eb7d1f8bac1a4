/**
 * A KMS Hub (module-core): a mixer whose inputs and output are HubPorts. Composite and
 * AlphaBlending are the two Theia uses.
 */
import type { KmsConnection } from '../KmsConnection.js';
import type { KmsObject } from '../KmsObject.js';
import { HubPort } from './HubPort.js';
import { MediaElement } from './MediaElement.js';

export abstract class Hub extends MediaElement {
  readonly #pipeline: KmsObject;

  protected constructor(kms: KmsConnection, object: KmsObject, pipeline: KmsObject) {
    super(kms, object);
    this.#pipeline = pipeline;
  }

  /**
   * Creates a HubPort of this hub (`create HubPort {hub: <id>}`). A port connected into the hub is
   * an input; the hub connected to a port's sink side (`port.connect(x)`) is the mixed output.
   * @throws MediaError, MediaUnavailableError.
   */
  async createPort(): Promise<HubPort> {
    const object = await this.kms.create(this.#pipeline, 'HubPort', { hub: this.id });
    return new HubPort(this.kms, object, this);
  }
}

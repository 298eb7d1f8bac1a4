/**
 * A KMS AlphaBlending (module-elements, kmd/elements.AlphaBlending.kmd.json): the master port fills
 * the frame (and sets the output size); every other port is drawn over it at a relative position.
 *
 * KMS 7.3 crashes (SIGSEGV in AlphaBlendingImpl::setMaster, every pipeline gone) when setMaster gets
 * the id of an object that is not a HubPort of that AlphaBlending (shared/kms-protocol/README.md):
 * these methods take a HubPort and refuse one of another hub before anything is sent.
 */
import type { KmsConnection } from '../KmsConnection.js';
import type { KmsObject } from '../KmsObject.js';
import { Hub } from './Hub.js';
import type { HubPort } from './HubPort.js';

/** Where a port is drawn, as fractions of the output frame (0–1), and its stacking order. */
export interface PortProperties {
  relativeX: number;
  relativeY: number;
  relativeWidth: number;
  relativeHeight: number;
  /** Higher is drawn on top. */
  zOrder: number;
}

export class AlphaBlending extends Hub {
  private constructor(kms: KmsConnection, object: KmsObject, pipeline: KmsObject) {
    super(kms, object, pipeline);
  }

  /** Creates an AlphaBlending in `pipeline`. @throws MediaError, MediaUnavailableError. */
  static async create(kms: KmsConnection, pipeline: KmsObject): Promise<AlphaBlending> {
    return new AlphaBlending(kms, await kms.create(pipeline, 'AlphaBlending'), pipeline);
  }

  #own(port: HubPort, method: string): void {
    if (port.hub !== this)
      throw new TypeError(
        `${method}() takes a HubPort of this AlphaBlending; ${port.id} belongs to another hub`,
      );
  }

  /**
   * Makes `port` the master: it fills the frame and sets the output size.
   * @throws TypeError for a port of another hub; MediaError, MediaUnavailableError.
   */
  setMaster(port: HubPort, zOrder: number): Promise<void> {
    this.#own(port, 'setMaster');
    return this.kms.invoke(this.object, 'setMaster', [port.id, Math.round(zOrder)]);
  }

  /**
   * Places `port` over the master.
   * @throws TypeError for a port of another hub; MediaError, MediaUnavailableError.
   */
  setPortProperties(port: HubPort, p: PortProperties): Promise<void> {
    this.#own(port, 'setPortProperties');
    return this.kms.invoke(this.object, 'setPortProperties', [
      p.relativeX,
      p.relativeY,
      Math.round(p.zOrder),
      p.relativeWidth,
      p.relativeHeight,
      port.id,
    ]);
  }
}

/**
 * A KMS HubPort (module-core, kmd/core.kmd.json): one input or output of a Hub (Composite,
 * AlphaBlending). Its id is a child of its hub's: `<pipeline>/<hub>/<uuid>_kurento.HubPort`.
 */
import type { KmsConnection } from '../KmsConnection.js';
import type { KmsObject } from '../KmsObject.js';
import type { Hub } from './Hub.js';
import { MediaElement } from './MediaElement.js';

export class HubPort extends MediaElement {
  /** The hub that made this port. */
  readonly hub: Hub;

  /** Use Hub.createPort(). */
  constructor(kms: KmsConnection, object: KmsObject, hub: Hub) {
    super(kms, object);
    this.hub = hub;
  }
}

/**
 * A KMS MediaElement (module-core `MediaElement`, shared/kms-protocol/kmd/core.kmd.json) as Theia
 * drives it: typed methods over KmsConnection.invoke, media objects passed by id (pitfall 2 of
 * shared/kms-protocol/README.md).
 */
import type { KmsConnection } from '../KmsConnection.js';
import type { KmsObject } from '../KmsObject.js';

export class MediaElement {
  protected readonly kms: KmsConnection;
  readonly object: KmsObject;

  constructor(kms: KmsConnection, object: KmsObject) {
    this.kms = kms;
    this.object = object;
  }

  /** The KMS object id, e.g. `<pipeline>/<uuid>_kurento.WebRtcEndpoint`. */
  get id(): string {
    return this.object.id;
  }

  /**
   * `connect(sink)` for every media type. Connecting a new source to a sink that has one replaces
   * the old source (KMS 7.3, shared/kms-protocol/README.md scenario 2): switch by connect alone.
   * @throws MediaError (e.g. 40004 when the two are in different pipelines), MediaUnavailableError.
   */
  connect(sink: MediaElement): Promise<void> {
    return this.kms.connect(this.object, sink.object);
  }

  /** Releases the element in KMS (background; failures are logged). */
  release(): void {
    this.kms.release(this.object);
  }
}

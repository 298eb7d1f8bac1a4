/**
 * MediaService on Kurento: creates RoomPipelines on the KmsConnection and, when KMS is lost,
 * aborts every one of them so their rooms end the live with `mediaServerLost`.
 */
import type { Logger } from '../logger.js';
import type { LiveMedia, MediaService } from '../rooms/media.js';
import type { KmsConnection } from './KmsConnection.js';
import { RoomPipeline } from './RoomPipeline.js';

export class KurentoMediaService implements MediaService {
  readonly #kms: KmsConnection;
  readonly #log: Logger;
  readonly #pipelines = new Set<RoomPipeline>();

  constructor(kms: KmsConnection, log: Logger) {
    this.#kms = kms;
    this.#log = log;
    kms.on('lost', () => {
      for (const p of [...this.#pipelines]) p.abort('mediaServerLost');
    });
  }

  /** Pipelines of lives in progress. */
  get size(): number {
    return this.#pipelines.size;
  }

  async createLive(ids: { roomId: string; liveId: string }): Promise<LiveMedia> {
    const pipeline = await RoomPipeline.create(this.#kms, ids, this.#log);
    this.#pipelines.add(pipeline);
    pipeline.once('@close', () => this.#pipelines.delete(pipeline));
    return pipeline;
  }
}

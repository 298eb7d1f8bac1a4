/**
 * MediaService on Kurento: creates LivePipelines on the KmsConnection and, when KMS is lost,
 * aborts every one of them so their rooms end the live with `mediaServerLost`.
 */
import type { Logger } from '../logger.js';
import type { LiveMedia, MediaService } from '../rooms/media.js';
import type { KmsConnection } from './KmsConnection.js';
import { LivePipeline, type LivePipelineOptions } from './LivePipeline.js';

export class KurentoMediaService implements MediaService {
  readonly #kms: KmsConnection;
  readonly #options: LivePipelineOptions;
  readonly #log: Logger;
  readonly #pipelines = new Set<LivePipeline>();

  constructor(kms: KmsConnection, options: LivePipelineOptions, log: Logger) {
    this.#kms = kms;
    this.#options = options;
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
    const pipeline = await LivePipeline.create(this.#kms, ids, this.#options, this.#log);
    this.#pipelines.add(pipeline);
    pipeline.once('@close', () => this.#pipelines.delete(pipeline));
    return pipeline;
  }
}

/**
 * EgressService with ffmpeg: one LiveEgress per live (DASH/HLS and its RTMP pushes), RTP ports from
 * one pool, files under `<DATA_DIR>/dash/<roomId>/`. `create()` checks the ffmpeg binary and
 * removes files a killed earlier run left behind.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../logger.js';
import type { EgressService, RtmpDestination } from '../rooms/egress.js';
import type { BackoffOptions } from '../process/FfmpegSupervisor.js';
import type { LiveMedia } from '../rooms/media.js';
import { checkFfmpegCapabilities } from './ffmpegCapabilities.js';
import { LiveEgress } from './LiveEgress.js';
import { RtpPortPool, type RtpPortRange } from './RtpPortPool.js';

export interface DashEgressServiceOptions {
  dataDir: string;
  ffmpegPath: string;
  /** UDP ports for the RTP KMS sends to ffmpeg (EGRESS_RTP_PORTS); not KMS's own range. */
  portRange: RtpPortRange;
  rtpAddress: string;
  /** The app's clock URL for DASH players, known once the app listens. */
  utcTimingUrl: () => string;
  /**
   * RTMP URLs every live is pushed to besides its room's (config RTMP_DESTINATIONS); `{roomId}`
   * is replaced by the room's id. Default none.
   */
  serverDestinations?: readonly string[];
  /** WebRTC viewers per room before viewers are sent to DASH (MAX_WEBRTC_VIEWERS); 0: no limit. */
  maxWebRtcViewers?: number;
  /** Restart backoff of RTMP pushes, ms. Default: RtmpPush's. */
  rtmpRestart?: BackoffOptions;
  log: Logger;
}

export class DashEgressService implements EgressService {
  readonly #options: DashEgressServiceOptions;
  readonly #ports: RtpPortPool;
  readonly #lives = new Set<LiveEgress>();

  private constructor(options: DashEgressServiceOptions) {
    this.#options = options;
    this.#ports = new RtpPortPool(options.portRange);
  }

  /** The directory of every live's DASH/HLS files: `<DATA_DIR>/dash`. */
  static dashDir(dataDir: string): string {
    return path.join(dataDir, 'dash');
  }

  /**
   * Checks ffmpeg and clears `<DATA_DIR>/dash` (no live survives a restart).
   * @throws FfmpegCapabilityError naming what is missing; TypeError for a bad port range.
   */
  static async create(options: DashEgressServiceOptions): Promise<DashEgressService> {
    const found = await checkFfmpegCapabilities(options.ffmpegPath);
    options.log.info({ ffmpeg: options.ffmpegPath, version: found.version }, 'ffmpeg ready for DASH egress');
    await rm(DashEgressService.dashDir(options.dataDir), { recursive: true, force: true });
    return new DashEgressService(options);
  }

  /** WebRTC viewers per room before `receiveVideo` is refused (DASH serves the rest); 0: no limit. */
  get maxWebRtcViewers(): number {
    return this.#options.maxWebRtcViewers ?? 0;
  }

  start(
    ids: { roomId: string; liveId: string },
    media: LiveMedia,
    destinations: readonly RtmpDestination[] = [],
  ): LiveEgress {
    const server = (this.#options.serverDestinations ?? []).map((url, i) => ({
      id: `server-${i + 1}`,
      url: url.replaceAll('{roomId}', encodeURIComponent(ids.roomId)),
    }));
    const live = new LiveEgress(ids, media, {
      dashDir: DashEgressService.dashDir(this.#options.dataDir),
      ffmpegPath: this.#options.ffmpegPath,
      ports: this.#ports,
      rtpAddress: this.#options.rtpAddress,
      utcTimingUrl: this.#options.utcTimingUrl(),
      destinations: [...destinations, ...server],
      ...(this.#options.rtmpRestart ? { rtmpRestart: this.#options.rtmpRestart } : {}),
      log: this.#options.log,
    });
    this.#lives.add(live);
    live.on('change', (status) => {
      if (status === 'closed') void live.whenStopped().finally(() => this.#lives.delete(live));
    });
    return live;
  }

  /** Waits until every closed live's ffmpeg has exited and its files are gone (app shutdown). */
  async drain(): Promise<void> {
    await Promise.all([...this.#lives].map((l) => l.whenStopped()));
  }
}

/**
 * The egress of one live: RTP ports leased from the pool, Theia's SDP offer to a KMS RtpEndpoint
 * that follows the program (LiveMedia.openEgress), and the DASH/HLS ffmpeg reading the same SDP.
 * Each new ffmpeg gets a keyframe request so its first segment starts at once. Closing stops
 * ffmpeg, releases the endpoint and the ports, and removes the files (doc/egress.md).
 */
import { EventEmitter } from 'node:events';
import path from 'node:path';
import type { Logger } from '../logger.js';
import type { DashStatus, LiveEgress as LiveEgressApi, LiveEgressEvents } from '../rooms/egress.js';
import type { EgressHandle, LiveMedia } from '../rooms/media.js';
import { DashEgress } from './DashEgress.js';
import type { RtpPortLease, RtpPortPool } from './RtpPortPool.js';
import { writeEgressSdp } from './sdp.js';

type Events = { [E in keyof LiveEgressEvents]: Parameters<LiveEgressEvents[E]> };

/** What every live's egress is started with (from config). */
export interface LiveEgressOptions {
  /** `<DATA_DIR>/dash`: each live writes to `<dashDir>/<roomId>/`. */
  dashDir: string;
  ffmpegPath: string;
  ports: RtpPortPool;
  /** Address KMS sends the RTP to (EGRESS_RTP_ADDRESS): where ffmpeg runs, as KMS sees it. */
  rtpAddress: string;
  /** The app's clock for players (`/api/time`), as a URL players can fetch. */
  utcTimingUrl: string;
  log: Logger;
}

export class LiveEgress extends EventEmitter<Events> implements LiveEgressApi {
  readonly #options: LiveEgressOptions;
  readonly #log: Logger;
  #status: DashStatus = 'starting';
  #closed = false;
  #lease: RtpPortLease | undefined;
  #handle: EgressHandle | undefined;
  #dash: DashEgress | undefined;

  /** Starts in the background; see `status` and `change`. */
  constructor(ids: { roomId: string; liveId: string }, media: LiveMedia, options: LiveEgressOptions) {
    super();
    this.#options = options;
    this.#log = options.log.child({ roomId: ids.roomId, liveId: ids.liveId });
    this.#start(ids.roomId, media).catch((err: unknown) => {
      this.#log.warn({ err }, 'DASH egress could not start');
      this.#setStatus('failed', err instanceof Error ? err.message : String(err));
      this.#release();
    });
  }

  get status(): DashStatus {
    return this.#status;
  }

  async #start(roomId: string, media: LiveMedia): Promise<void> {
    const lease = await this.#options.ports.allocate(2);
    this.#lease = lease;
    if (this.#closed) return this.#release();
    const [videoPort, audioPort] = lease.ports as [number, number];
    const sdp = writeEgressSdp({ address: this.#options.rtpAddress, videoPort, audioPort });
    const handle = await media.openEgress(sdp);
    this.#handle = handle;
    if (this.#closed) return this.#release();
    const dash = await DashEgress.create({
      sdp,
      outputDir: path.join(this.#options.dashDir, roomId),
      utcTimingUrl: this.#options.utcTimingUrl,
      ffmpegPath: this.#options.ffmpegPath,
      logger: this.#log,
    });
    this.#dash = dash;
    if (this.#closed) return this.#release();
    dash.on('spawned', () => void handle.requestKeyframe());
    dash.on('state', (s) => {
      if (s.state === 'ready') this.#setStatus('ready');
      else if (s.state === 'retrying') this.#setStatus('retrying', s.reason);
      else if (s.state === 'failed') this.#setStatus('failed', s.reason);
    });
  }

  #setStatus(status: DashStatus, reason?: string): void {
    if (this.#status === status || this.#status === 'closed') return;
    this.#status = status;
    this.emit('change', status, reason);
  }

  #release(): void {
    this.#dash?.close();
    this.#handle?.close();
    this.#lease?.release();
  }

  /** Resolves once ffmpeg has exited and the files are gone (after close()). */
  async whenStopped(): Promise<void> {
    await this.#dash?.whenStopped();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#release();
    this.#setStatus('closed');
  }
}

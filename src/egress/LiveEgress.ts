/**
 * The egress of one live: for DASH/HLS and for each RTMP destination, RTP ports leased from the
 * pool, Theia's SDP offer to a KMS RtpEndpoint of its own that follows the program
 * (LiveMedia.openEgress), and one supervised ffmpeg reading the same SDP (DashEgress, RtmpPush).
 * Each output starts, fails, retries and stops alone: a destination that refuses never stops DASH
 * nor another destination. Each new ffmpeg gets a keyframe request so it starts at once. Closing
 * stops every ffmpeg, releases the endpoints and the ports, and removes the files (doc/egress.md).
 *
 * Destinations are those of the live's start: changes made meanwhile apply from the next live.
 */
import { EventEmitter } from 'node:events';
import path from 'node:path';
import type { Logger } from '../logger.js';
import type {
  DashStatus,
  DestinationStatus,
  EgressStatus,
  LiveEgress as LiveEgressApi,
  LiveEgressEvents,
  RtmpDestination,
} from '../rooms/egress.js';
import type { EgressHandle, LiveMedia } from '../rooms/media.js';
import type { BackoffOptions } from '../process/FfmpegSupervisor.js';
import { DashEgress } from './DashEgress.js';
import { RtmpPush, parseRtmpUrl, type RtmpPushState } from './RtmpPush.js';
import type { RtpPortLease, RtpPortPool } from './RtpPortPool.js';
import { writeEgressSdp } from './sdp.js';

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
  /** RTMP pushes of this live (the room's and the server's), stream keys included. */
  destinations?: readonly RtmpDestination[];
  /** Restart backoff of RTMP pushes, ms (tests shorten it). Default: RtmpPush's. */
  rtmpRestart?: BackoffOptions;
  log: Logger;
}

/** The parts one output holds, released together. */
interface Output {
  lease?: RtpPortLease;
  handle?: EgressHandle;
}

/** One RTMP destination's output and what the host sees of it. */
interface Destination extends Output {
  status: DestinationStatus;
  push?: RtmpPush;
}

/** `rtmp://host/app/***`, or a fixed text for a URL that does not parse (it then fails). */
function redact(url: string): string {
  try {
    return parseRtmpUrl(url).redacted;
  } catch {
    return 'rtmp://…/***';
  }
}

export class LiveEgress extends EventEmitter<LiveEgressEvents> implements LiveEgressApi {
  readonly #options: LiveEgressOptions;
  readonly #log: Logger;
  #status: DashStatus = 'starting';
  #reason: string | undefined;
  #closed = false;
  readonly #dashOutput: Output = {};
  #dash: DashEgress | undefined;
  readonly #destinations: Destination[];

  /** Starts in the background; see `status`, `egressStatus()` and the events. */
  constructor(ids: { roomId: string; liveId: string }, media: LiveMedia, options: LiveEgressOptions) {
    super();
    this.#options = options;
    this.#log = options.log.child({ roomId: ids.roomId, liveId: ids.liveId });
    this.#startDash(ids.roomId, media).catch((err: unknown) => {
      this.#log.warn({ err }, 'DASH egress could not start');
      this.#setStatus('failed', err instanceof Error ? err.message : String(err));
      this.#releaseDash();
    });
    this.#destinations = (options.destinations ?? []).map((d) => ({
      status: { id: d.id, url: redact(d.url), state: 'connecting' },
    }));
    (options.destinations ?? []).forEach((d, i) => {
      const dest = this.#destinations[i]!;
      this.#startDestination(dest, d.url, media).catch((err: unknown) => {
        const reason = err instanceof Error ? err.message : String(err);
        this.#log.warn({ rtmp: dest.status.url, reason }, 'RTMP push could not start');
        this.#setDestination(dest, { state: 'failed', reason });
        this.#releaseDestination(dest);
      });
    });
  }

  get status(): DashStatus {
    return this.#status;
  }

  /** DASH and every destination, keys redacted. */
  egressStatus(): EgressStatus {
    return {
      dash: this.#status,
      ...(this.#reason === undefined ? {} : { dashReason: this.#reason }),
      destinations: this.#destinations.map((d) => ({ ...d.status })),
    };
  }

  /** Opens an egress RtpEndpoint on two leased ports; rejects (releasing them) if KMS refuses. */
  async #open(output: Output, media: LiveMedia): Promise<string | undefined> {
    output.lease = await this.#options.ports.allocate(2);
    if (this.#closed) return undefined;
    const [videoPort, audioPort] = output.lease.ports as [number, number];
    const sdp = writeEgressSdp({ address: this.#options.rtpAddress, videoPort, audioPort });
    output.handle = await media.openEgress(sdp);
    return this.#closed ? undefined : sdp;
  }

  async #startDash(roomId: string, media: LiveMedia): Promise<void> {
    const sdp = await this.#open(this.#dashOutput, media);
    if (sdp === undefined) return this.#releaseDash();
    const dash = await DashEgress.create({
      sdp,
      outputDir: path.join(this.#options.dashDir, roomId),
      utcTimingUrl: this.#options.utcTimingUrl,
      ffmpegPath: this.#options.ffmpegPath,
      logger: this.#log,
    });
    this.#dash = dash;
    if (this.#closed) return this.#releaseDash();
    const handle = this.#dashOutput.handle!;
    dash.on('spawned', () => void handle.requestKeyframe());
    dash.on('state', (s) => {
      if (s.state === 'ready') this.#setStatus('ready');
      else if (s.state === 'starting') this.#setStatus('starting');
      else if (s.state === 'retrying') this.#setStatus('retrying', s.reason);
      else if (s.state === 'failed') this.#setStatus('failed', s.reason);
    });
  }

  async #startDestination(dest: Destination, url: string, media: LiveMedia): Promise<void> {
    const sdp = await this.#open(dest, media);
    if (sdp === undefined) return this.#releaseDestination(dest);
    const push = await RtmpPush.create({
      url,
      sdp,
      ffmpegPath: this.#options.ffmpegPath,
      logger: this.#log,
      ...(this.#options.rtmpRestart ? { restart: this.#options.rtmpRestart } : {}),
    });
    dest.push = push;
    if (this.#closed) return this.#releaseDestination(dest);
    const handle = dest.handle!;
    push.on('spawned', () => void handle.requestKeyframe());
    push.on('state', (s) => this.#onPushState(dest, s));
    this.#onPushState(dest, push.state);
  }

  #onPushState(dest: Destination, s: RtmpPushState): void {
    if (s.state === 'retrying' || s.state === 'failed') this.#setDestination(dest, s);
    else this.#setDestination(dest, { state: s.state });
    // a push that gave up holds its endpoint and ports for nothing
    if (s.state === 'failed') this.#releaseDestination(dest);
  }

  #setDestination(dest: Destination, s: { state: DestinationStatus['state']; reason?: string }): void {
    const before = dest.status;
    if (before.state === 'closed' || (before.state === 'failed' && s.state !== 'closed')) return;
    if (before.state === s.state && before.reason === s.reason) return;
    dest.status = {
      id: before.id,
      url: before.url,
      state: s.state,
      ...(s.reason ? { reason: s.reason } : {}),
    };
    this.emit('destinationChanged', { ...dest.status });
  }

  #setStatus(status: DashStatus, reason?: string): void {
    if (this.#status === status || this.#status === 'closed') return;
    this.#status = status;
    this.#reason = reason;
    this.emit('change', status, reason);
  }

  #releaseDash(): void {
    this.#dash?.close();
    this.#dashOutput.handle?.close();
    this.#dashOutput.lease?.release();
  }

  #releaseDestination(dest: Destination): void {
    dest.push?.close();
    dest.handle?.close();
    dest.lease?.release();
  }

  /** Resolves once every ffmpeg has exited and the files are gone (after close()). */
  async whenStopped(): Promise<void> {
    await Promise.all([this.#dash?.whenStopped(), ...this.#destinations.map((d) => d.push?.whenStopped())]);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#releaseDash();
    for (const dest of this.#destinations) {
      this.#releaseDestination(dest);
      this.#setDestination(dest, { state: 'closed' });
    }
    this.#setStatus('closed');
  }
}

/**
 * RTMP → RTP for one OBS stream: one supervised ffmpeg (src/process/, as egress) pulls the stream
 * from the embedded RTMP server and pushes it as plain RTP (RFC 3550) into the KMS RtpEndpoint
 * that is the live's feed (`IngestLive.publishRtp`). H.264 is copied (AVCC → Annex B, so every
 * keyframe carries SPS/PPS for KMS and late viewers); audio is re-encoded to Opus 48 kHz stereo.
 *
 * Theia writes the SDP offer (src/ingest/rtpSdp.ts: payload types 96 Opus / 103 H.264 and the
 * SSRCs given to ffmpeg with `-payload_type`/`-ssrc`), KMS answers with its ports. ffmpeg sends to
 * `kmsRtpAddress` when set (INGEST_KMS_RTP_ADDRESS, e.g. 127.0.0.1: a real KMS advertises its
 * first non-loopback address but listens on all), else to the answer's `c=` address.
 *
 * When ffmpeg dies or stalls it is restarted (capped backoff) towards the same RtpEndpoint with the
 * same SSRCs; the RtpEndpoint stays the live's feed, so viewers get video back without doing
 * anything. After `maxConsecutiveFailures` failures in a row the bridge closes itself (`close`
 * with the error); its owner (RtmpIngest) then ends the live.
 */
import { EventEmitter } from 'node:events';
import { InvalidStateError } from '../errors.js';
import type { Logger } from '../logger.js';
import { FfmpegProcess } from '../process/FfmpegProcess.js';
import { FfmpegSupervisor } from '../process/FfmpegSupervisor.js';
import type { FfmpegExitError } from '../process/errors.js';
import type { IngestLive } from '../rooms/IngestLive.js';
import {
  H264_PAYLOAD_TYPE,
  OPUS_PAYLOAD_TYPE,
  newSender,
  rtpPublishOffer,
  rtpTargetOf,
  type RtpSenderDescription,
  type RtpTarget,
} from './rtpSdp.js';

export interface RtmpBridgeOptions {
  ingest: IngestLive;
  /** Where ffmpeg pulls the stream, e.g. `rtmp://127.0.0.1:1935/live/<token>`. */
  rtmpUrl: string;
  ffmpegPath: string;
  /** Overrides the answer's `c=` address (INGEST_KMS_RTP_ADDRESS). */
  kmsRtpAddress: string | undefined;
  /** Strings never logged (the stream key). */
  secrets: readonly string[];
  logger: Logger;
  /** A started ffmpeg that makes no progress for this long (ms) is restarted. Default 10000. */
  stallTimeoutMs?: number;
  /** Give up after this many failures in a row. Default 8. */
  maxConsecutiveFailures?: number;
  /** Delay before the first restart, ms. Default 500. */
  restartDelayMs?: number;
}

export interface RtmpBridgeEvents {
  /** A new ffmpeg was spawned (attempt 1 is the first). */
  spawned: [process: FfmpegProcess, attempt: number];
  /** ffmpeg is sending (its first progress report). */
  started: [process: FfmpegProcess];
  /** Closed: by close() (no error) or because ffmpeg kept failing. Once. */
  close: [error?: FfmpegExitError];
}

/** ffmpeg's `-ssrc` is a signed 32-bit option (`[-2^31, 2^31)`); it sends the same 32 bits. */
function int32(ssrc: number): string {
  return String(ssrc | 0);
}

/** ffmpeg's arguments (after FfmpegProcess's own) for `rtmpUrl` → RTP to `target`. */
export function bridgeArgs(rtmpUrl: string, target: RtpTarget, sender: RtpSenderDescription): string[] {
  // RTP packets of at most 1200 bytes, as WebRTC stacks send: fits any path MTU with headers
  const rtp = (port: number, rtcpPort: number): string =>
    `rtp://${target.address}:${port}?rtcpport=${rtcpPort}&pkt_size=1200`;
  return [
    // the RTMP server is local: a stream that stops sending is seen within 10 s (µs)
    '-rw_timeout',
    '10000000',
    '-i',
    rtmpUrl,
    '-map',
    '0:v:0',
    '-c:v',
    'copy',
    // FLV carries AVCC without parameter sets in-band: Annex B with SPS/PPS before every IDR
    '-bsf:v',
    'h264_mp4toannexb',
    '-f',
    'rtp',
    '-payload_type',
    String(H264_PAYLOAD_TYPE),
    '-ssrc',
    int32(sender.videoSsrc),
    '-cname',
    sender.cname,
    rtp(target.videoPort, target.videoRtcpPort),
    '-map',
    '0:a:0',
    '-c:a',
    'libopus',
    '-b:a',
    '64k',
    '-ar',
    '48000',
    '-ac',
    '2',
    '-f',
    'rtp',
    '-payload_type',
    String(OPUS_PAYLOAD_TYPE),
    '-ssrc',
    int32(sender.audioSsrc),
    '-cname',
    sender.cname,
    rtp(target.audioPort, target.audioRtcpPort),
  ];
}

export class RtmpBridge extends EventEmitter<RtmpBridgeEvents> {
  /** KMS's SDP answer to the bridge's offer. */
  readonly sdpAnswer: string;
  /** Where ffmpeg sends. */
  readonly target: RtpTarget;
  readonly sender: RtpSenderDescription;
  readonly #supervisor: FfmpegSupervisor;
  #closed = false;

  private constructor(
    options: RtmpBridgeOptions,
    sdpAnswer: string,
    target: RtpTarget,
    sender: RtpSenderDescription,
  ) {
    super();
    this.sdpAnswer = sdpAnswer;
    this.target = target;
    this.sender = sender;
    const log = options.logger;
    this.#supervisor = new FfmpegSupervisor({
      logger: log,
      initialDelayMs: options.restartDelayMs ?? 500,
      maxDelayMs: 5_000,
      maxConsecutiveFailures: options.maxConsecutiveFailures ?? 8,
      spawn: () =>
        new FfmpegProcess({
          ffmpegPath: options.ffmpegPath,
          args: bridgeArgs(options.rtmpUrl, target, sender),
          logger: log,
          logLevel: 'warning',
          stallTimeoutMs: options.stallTimeoutMs ?? 10_000,
          secrets: options.secrets,
        }),
    });
    this.#supervisor.on('spawned', (p, attempt) => this.emit('spawned', p, attempt));
    this.#supervisor.on('started', (p) => this.emit('started', p));
    this.#supervisor.on('failed', (error) => this.#close(error));
  }

  /**
   * Makes the RTP the live's feed (offer → KMS answer) and starts ffmpeg.
   * @throws InvalidStateError when the live ended meanwhile; MediaError when KMS refuses the offer;
   *   TypeError when its answer has no usable address or ports.
   */
  static async create(options: RtmpBridgeOptions): Promise<RtmpBridge> {
    const { ingest } = options;
    const sender = newSender(`theia-${ingest.liveId}`);
    const sdpAnswer = await ingest.publishRtp(rtpPublishOffer(sender));
    if (ingest.ended) throw new InvalidStateError('The live ended.');
    const answered = rtpTargetOf(sdpAnswer);
    const target = { ...answered, address: options.kmsRtpAddress ?? answered.address };
    options.logger.info(
      { liveId: ingest.liveId, target, ssrc: [sender.videoSsrc, sender.audioSsrc] },
      'RTMP bridge to KMS',
    );
    return new RtmpBridge(options, sdpAnswer, target, sender);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The running ffmpeg (undefined between a death and its restart). */
  get process(): FfmpegProcess | undefined {
    return this.#supervisor.current;
  }

  /** Stops ffmpeg. Idempotent; emits `close`. `whenStopped()` waits for the process to be gone. */
  close(): void {
    this.#close();
  }

  /** Resolves when ffmpeg is gone. Never rejects. */
  whenStopped(): Promise<void> {
    return this.#supervisor.whenStopped();
  }

  #close(error?: FfmpegExitError): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#supervisor.close();
    this.emit('close', error);
  }
}

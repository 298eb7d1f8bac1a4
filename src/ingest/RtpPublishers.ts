/**
 * Lives pushed as plain RTP (RFC 3550) by a PC client — the seed's "RTP Server". The flow:
 * 1. `start(userId)` (REST `POST /api/rtp/lives` with a login token): an `rtp` ingest live in the
 *    user's room; the client gets `{liveId, liveCode}`;
 * 2. `publish(liveId, liveCode, sdpOffer?)` (REST scheme 2 `POST /api/rtp/publish`, or one UDP
 *    datagram, scheme 1): the live's KMS RtpEndpoint answers; without an offer Theia writes one
 *    (Opus PT 96, H.264 PT 103, fresh SSRCs: rtpSdp.ts) and tells the client the SSRCs to use.
 *    A liveCode publishes once: a second publish of the same live is refused (`reused`);
 * 3. `stop(liveId)`: the live ends and the host leaves the room.
 * Only lives started here can be published to; ended ones are forgotten (`expired`).
 */
import { ConflictError, ForbiddenError } from '../errors.js';
import type { IngestLive } from '../rooms/IngestLive.js';
import type { RoomManager } from '../rooms/RoomManager.js';
import { H264_PAYLOAD_TYPE, OPUS_PAYLOAD_TYPE, newSender, rtpPublishOffer, rtpTargetOf } from './rtpSdp.js';

/** What a client needs to send RTP. Ports are UDP; SSRCs are 32-bit unsigned. */
export interface RtpPublishResult {
  liveId: string;
  /** Where to send: the answer's `c=` address (a real KMS: its first non-loopback address). */
  address: string;
  /** The video RTP port (scheme 2's `port`). */
  port: number;
  ports: { audio: number; video: number; audioRtcp: number; videoRtcp: number };
  /** SSRCs to send with; undefined for a client that sent its own offer. */
  ssrc: { audio: number; video: number } | undefined;
  payloadTypes: { audio: number; video: number } | undefined;
  sdpAnswer: string;
}

export class RtpPublishers {
  readonly #rooms: RoomManager;
  readonly #lives = new Map<string, { ingest: IngestLive; published: boolean }>();

  constructor(rooms: RoomManager) {
    this.#rooms = rooms;
  }

  /**
   * Starts an RTP live in user `userId`'s room.
   * @throws NotFoundError (no room), InvalidStateError (live already), MediaUnavailableError.
   */
  async start(userId: string): Promise<{ liveId: string; liveCode: string }> {
    const ingest = await this.#rooms.startIngest(userId, 'rtp');
    this.#lives.set(ingest.liveId, { ingest, published: false });
    ingest.once('ended', () => {
      this.#lives.delete(ingest.liveId);
      this.#rooms.stopIngest(ingest).catch(() => undefined); // the host leaves the room
    });
    return { liveId: ingest.liveId, liveCode: ingest.liveCode };
  }

  /** The RTP live `liveId`, if it runs. */
  ingestOf(liveId: string): IngestLive | undefined {
    return this.#lives.get(liveId)?.ingest;
  }

  /**
   * Makes the client's RTP the live's feed.
   * @throws ForbiddenError for an unknown, ended or wrong liveId/liveCode or a live not started
   *   here; ConflictError when this live was published already; MediaError for an offer KMS refuses.
   */
  async publish(liveId: string, liveCode: string, sdpOffer?: string): Promise<RtpPublishResult> {
    const entry = this.#lives.get(liveId);
    if (!entry || !this.#rooms.verifyLive(liveId, liveCode) || entry.ingest.liveCode !== liveCode) {
      throw new ForbiddenError('This liveId and liveCode do not open an RTP live. Start one first.');
    }
    if (entry.published) throw new ConflictError('This live is being pushed already. Start a new live.');
    entry.published = true;
    const sender = sdpOffer === undefined ? newSender(`theia-${liveId}`) : undefined;
    try {
      const sdpAnswer = await entry.ingest.publishRtp(sdpOffer ?? rtpPublishOffer(sender!));
      const t = rtpTargetOf(sdpAnswer);
      return {
        liveId,
        address: t.address,
        port: t.videoPort,
        ports: {
          audio: t.audioPort,
          video: t.videoPort,
          audioRtcp: t.audioRtcpPort,
          videoRtcp: t.videoRtcpPort,
        },
        ssrc: sender && { audio: sender.audioSsrc, video: sender.videoSsrc },
        payloadTypes: sender && { audio: OPUS_PAYLOAD_TYPE, video: H264_PAYLOAD_TYPE },
        sdpAnswer,
      };
    } catch (err) {
      entry.published = false;
      throw err;
    }
  }

  /** Ends RTP live `liveId`; false when no such live runs. */
  async stop(liveId: string): Promise<boolean> {
    const entry = this.#lives.get(liveId);
    if (!entry) return false;
    this.#lives.delete(liveId);
    await this.#rooms.stopIngest(entry.ingest);
    return true;
  }
}

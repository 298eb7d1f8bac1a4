/**
 * A live fed from outside a browser — OBS over RTMP (through the ffmpeg bridge) or WHIP, or a PC
 * client pushing RTP — seen by the room as its host: a Participant with no socket, in the room for
 * as long as the live runs. Ingest (src/ingest/) holds one per stream and pushes the media through it;
 * the room's rules (one live per room, co-hosting, face detection, egress) apply unchanged.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { EndReason, NotificationMethod, NotificationParams } from '../protocol/index.js';
import type { UserRecord } from '../store/Store.js';
import type { Participant } from './Participant.js';
import type { Room } from './Room.js';

/** How the host's media arrives. */
export type IngestSource = 'rtmp' | 'whip' | 'rtp';

export interface IngestLiveEvents {
  /** The live ended, however (stopped from a browser or REST, the media server lost, stop()). */
  ended: [reason: EndReason];
}

export class IngestLive extends EventEmitter<IngestLiveEvents> implements Participant {
  readonly id = `ingest-${randomUUID()}`;
  readonly user: UserRecord;
  readonly source: IngestSource;
  readonly room: Room;
  /** Set once the live started (RoomManager.startIngest). */
  liveId = '';
  liveCode = '';
  #ended = false;

  /** Use RoomManager.startIngest(). */
  constructor(user: UserRecord, source: IngestSource, room: Room) {
    super();
    this.user = user;
    this.source = source;
    this.room = room;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** The room talks to its host: only the end of this live matters to a socketless one. */
  notify<M extends NotificationMethod>(method: M, params: NotificationParams[M]): void {
    if (method !== 'liveEnded' && method !== 'roomClosed') return;
    const p = params as NotificationParams['liveEnded'] | NotificationParams['roomClosed'];
    if ('liveId' in p && p.liveId !== this.liveId) return;
    this.#end(p.reason);
  }

  #end(reason: EndReason): void {
    if (this.#ended) return;
    this.#ended = true;
    this.emit('ended', reason);
  }

  /**
   * Makes plain RTP described by `sdpOffer` the host's feed; returns the media server's answer
   * (where to send). @throws InvalidStateError once ended; MediaError for an SDP KMS refuses.
   */
  publishRtp(sdpOffer: string): Promise<string> {
    return this.room.publishRtp(this, sdpOffer);
  }

  /**
   * Makes a WebRTC offer that does not trickle (WHIP) the host's feed; returns the complete answer.
   * @throws like publishRtp.
   */
  publishWebRtc(sdpOffer: string): Promise<string> {
    return this.room.publish(this, sdpOffer, { complete: true });
  }
}

/**
 * Owns the Rooms that are in use: creates one when the first participant enters a stored room,
 * drops it when it is idle again (nobody in it, not live), and routes each participant's calls
 * to the room it is in. A participant is in at most one room.
 */
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { ForbiddenError, InvalidStateError, NotFoundError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ChatMessage, CoHostRequest, EndReason, Role, RoomSummary } from '../protocol/index.js';
import type { Store } from '../store/Store.js';
import type { EgressService } from './egress.js';
import type { MediaService } from './media.js';
import type { Participant } from './Participant.js';
import { IngestLive, type IngestSource } from './IngestLive.js';
import { Room, roomSummary } from './Room.js';

export interface RoomManagerOptions {
  /** Chat messages one user may send per `chatWindowSec`. */
  chatBurst?: number;
  chatWindowSec?: number;
  /** Least time between two `viewerCountChanged` of one room, ms; default 1000. */
  viewerCountIntervalMs?: number;
  /** Guest seats on a stage besides the host; default 1 (config MAX_GUESTS). */
  maxGuests?: number;
  /** DASH/HLS egress of lives; none by default. */
  egress?: EgressService;
  /** How long a live waits for its host's dropped connection, ms (HOST_GRACE_MS); default 0. */
  hostGraceMs?: number;
}

export class RoomManager {
  readonly #store: Store;
  readonly #media: MediaService;
  readonly #log: Logger;
  readonly #chatLimiter: RateLimiterMemory;
  readonly #viewerCountIntervalMs: number;
  readonly #maxGuests: number;
  readonly #egress: EgressService | undefined;
  readonly #hostGraceMs: number;
  #closed = false;
  readonly #rooms = new Map<string, Room>();
  readonly #roomOf = new Map<string, Room>();

  constructor(store: Store, media: MediaService, log: Logger, options: RoomManagerOptions = {}) {
    this.#store = store;
    this.#media = media;
    this.#log = log;
    this.#chatLimiter = new RateLimiterMemory({
      points: options.chatBurst ?? 5,
      duration: options.chatWindowSec ?? 5,
    });
    this.#viewerCountIntervalMs = options.viewerCountIntervalMs ?? 1000;
    this.#maxGuests = options.maxGuests ?? 1;
    this.#egress = options.egress;
    this.#hostGraceMs = options.hostGraceMs ?? 0;
  }

  /** Summaries of every stored room, live ones first, then by title. */
  list(): RoomSummary[] {
    return this.#store
      .rooms()
      .map((r) => this.summary(r.id))
      .sort((a, b) => Number(b.live) - Number(a.live) || a.title.localeCompare(b.title));
  }

  /**
   * One room's summary.
   * @throws NotFoundError when no such room is stored.
   */
  summary(roomId: string): RoomSummary {
    const active = this.#rooms.get(roomId);
    if (active) return active.summary();
    const record = this.#store.roomById(roomId);
    if (!record) throw new NotFoundError(`There is no room ${roomId}.`);
    return roomSummary(this.#store, record);
  }

  #room(roomId: string): Room {
    let room = this.#rooms.get(roomId);
    if (room) return room;
    const record = this.#store.roomById(roomId);
    if (!record) throw new NotFoundError(`There is no room ${roomId}. Pick one from the room list.`);
    room = new Room(record, {
      store: this.#store,
      media: this.#media,
      chatLimiter: this.#chatLimiter,
      log: this.#log,
      viewerCountIntervalMs: this.#viewerCountIntervalMs,
      maxGuests: this.#maxGuests,
      egress: this.#egress,
      hostGraceMs: this.#hostGraceMs,
    });
    const created = room;
    created.on('@idle', () => {
      if (this.#rooms.get(roomId) === created && created.idle) this.#rooms.delete(roomId);
    });
    this.#rooms.set(roomId, room);
    return room;
  }

  /**
   * The room `p` is in.
   * @throws InvalidStateError when it is in none.
   */
  roomOf(p: Participant): Room {
    const room = this.#roomOf.get(p.id);
    if (!room) throw new InvalidStateError('Join a room first (joinRoom).');
    return room;
  }

  /** Puts `p` in room `roomId`, leaving the room it was in. */
  async join(
    p: Participant,
    roomId: string,
  ): Promise<{
    room: RoomSummary;
    role: Role;
    messages: ChatMessage[];
    requests: CoHostRequest[];
    publishing: boolean;
  }> {
    if (this.#closed) throw new InvalidStateError('The server is shutting down. Try again in a moment.');
    if (!this.#store.roomById(roomId))
      throw new NotFoundError(`There is no room ${roomId}. Pick one from the room list.`);
    const previous = this.#roomOf.get(p.id);
    if (previous && previous.id !== roomId) await this.leave(p);
    // looked up only now, with no await before room.join(): an idle room cannot be dropped in between
    if (this.#closed) throw new InvalidStateError('The server is shutting down. Try again in a moment.');
    const room = this.#room(roomId);
    this.#roomOf.set(p.id, room);
    return room.join(p);
  }

  /**
   * True while `liveId` — a room's live or a guest's contribution to one — runs and `liveCode`
   * is its code (the seed's 校验推流授权).
   */
  verifyLive(liveId: string, liveCode: string): boolean {
    const record = this.#store.liveById(liveId);
    if (!record || record.endedAt !== null) return false;
    return this.#rooms.get(record.roomId)?.verifyLive(liveId, liveCode) ?? false;
  }

  /**
   * Takes `p` out of its room, if any; `disconnected` when its connection dropped rather than left
   * (a host that dropped gets HOST_GRACE_MS to come back).
   */
  async leave(p: Participant, disconnected = false): Promise<void> {
    const room = this.#roomOf.get(p.id);
    if (!room) return;
    this.#roomOf.delete(p.id);
    await room.leave(p, disconnected);
  }

  /**
   * Starts a live in the room of user `userId` fed from outside a browser (OBS over RTMP or WHIP, a
   * PC client over RTP): a socketless host joins the room and goes live. Push media with
   * `publishRtp`/`publishWebRtc`, end it with `stopIngest`.
   * @throws NotFoundError when the user owns no room; InvalidStateError when the room is live
   *   already or the server is shutting down; MediaUnavailableError.
   */
  async startIngest(userId: string, source: IngestSource): Promise<IngestLive> {
    const user = this.#store.userById(userId);
    const record = this.#store.rooms().find((r) => r.ownerId === userId);
    if (!user || !record) throw new NotFoundError('That user has no room to go live in.');
    if (this.#closed) throw new InvalidStateError('The server is shutting down. Try again in a moment.');
    const ingest = new IngestLive(user, source, this.#room(record.id));
    await this.join(ingest, record.id);
    try {
      const { liveId, liveCode } = await ingest.room.startLive(ingest);
      ingest.liveId = liveId;
      ingest.liveCode = liveCode;
      return ingest;
    } catch (err) {
      await this.leave(ingest);
      throw err;
    }
  }

  /** Ends an ingest live (its source stopped or went idle) and takes its host out of the room. */
  async stopIngest(ingest: IngestLive): Promise<void> {
    if (!ingest.ended) {
      // ended while the host is still in the room, so it hears it too (reason `stopped`)
      await ingest.room.stopLive(ingest).catch((err: unknown) => {
        if (!(err instanceof InvalidStateError)) throw err; // ended meanwhile
      });
    }
    await this.leave(ingest);
  }

  /**
   * Renames room `roomId` for its owner `userId`; everyone in the room gets `roomUpdated`.
   * @returns the room's new summary
   * @throws NotFoundError for an unknown room; ForbiddenError for anyone but the owner.
   */
  async rename(roomId: string, userId: string, title: string): Promise<RoomSummary> {
    const record = this.#store.roomById(roomId);
    if (!record) throw new NotFoundError(`There is no room ${roomId}.`);
    if (record.ownerId !== userId) throw new ForbiddenError('Only the owner of this room can change it.');
    await this.#store.updateRoom(roomId, { title });
    const room = this.summary(roomId);
    this.#rooms.get(roomId)?.tell('roomUpdated', { room });
    return room;
  }

  /** Stops the live of room `roomId` for its owner `userId` (REST). */
  async stopLive(roomId: string, userId: string): Promise<void> {
    const room = this.#rooms.get(roomId);
    if (!room) {
      this.summary(roomId); // NotFoundError for unknown rooms
      throw new InvalidStateError('This room is not live.');
    }
    await room.stopLiveByOwner(userId);
  }

  /** Ends every live and closes every room (app shutdown). */
  async close(reason: EndReason): Promise<void> {
    this.#closed = true;
    const rooms = [...this.#rooms.values()];
    this.#rooms.clear();
    this.#roomOf.clear();
    await Promise.allSettled(rooms.map((r) => r.close(reason)));
  }
}

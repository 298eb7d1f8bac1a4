/**
 * The live state of one stored room: who is in it, whether it is live, and its media.
 * Every change runs on the room's SerialQueue (one at a time); chat and ICE candidates, which
 * change no room state, skip the queue.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { RateLimiterMemory } from 'rate-limiter-flexible';
import { publicUser } from '../auth/AuthService.js';
import {
  ErrorCode,
  ForbiddenError,
  InvalidStateError,
  RateLimitedError,
  UnauthenticatedError,
} from '../errors.js';
import type { Logger } from '../logger.js';
import {
  Limits,
  type ChatMessage,
  type EndReason,
  type EndpointKind,
  type IceCandidateInit,
  type NotificationMethod,
  type NotificationParams,
  type Role,
  type RoomSummary,
} from '../signalling/protocol.js';
import type { LiveRecord, MessageRecord, RoomRecord, Store } from '../store/Store.js';
import type { LiveMedia, MediaService } from './media.js';
import type { Participant } from './Participant.js';
import { SerialQueue } from './SerialQueue.js';

interface ActiveLive {
  record: LiveRecord;
  media: LiveMedia;
  /** The participant (connection) that started the live and alone may publish. */
  hostId: string;
}

export interface RoomEvents {
  /** Nobody is in the room and it is not live: the manager may drop it. */
  '@idle': [];
}

/** Dependencies a Room shares with its manager. */
export interface RoomContext {
  store: Store;
  media: MediaService;
  chatLimiter: RateLimiterMemory;
  log: Logger;
  /**
   * Least time between two `viewerCountChanged` of the room, ms: joins and leaves in between are
   * told once, with the latest count (a join storm would otherwise cost the square of the room size).
   */
  viewerCountIntervalMs: number;
}

const mediaKey = (p: Participant, kind: EndpointKind): string => `${p.id}:${kind}`;

/** A stored room as the room list shows it; `state` is what only an active Room knows. */
export function roomSummary(
  store: Store,
  record: RoomRecord,
  state: { liveId: string | null; viewers: number } = { liveId: null, viewers: 0 },
): RoomSummary {
  const owner = store.userById(record.ownerId);
  return {
    id: record.id,
    title: record.title,
    host: { id: record.ownerId, name: owner?.name ?? '' },
    live: state.liveId !== null,
    liveId: state.liveId,
    viewers: state.viewers,
  };
}

function toChatMessage(m: MessageRecord): ChatMessage {
  return {
    id: m.id,
    roomId: m.roomId,
    user: { id: m.userId, name: m.userName },
    text: m.text,
    sentAt: m.sentAt,
  };
}

export class Room extends EventEmitter<RoomEvents> {
  readonly id: string;
  /** A room's owner never changes: kept here so roles need no store look-up. */
  readonly #ownerId: string;
  readonly #ctx: RoomContext;
  readonly #log: Logger;
  readonly #queue = new SerialQueue();
  readonly #participants = new Map<string, Participant>();
  /** Participants who joined as viewers (the count is kept, not recounted per join). */
  readonly #viewerIds = new Set<string>();
  #live: ActiveLive | undefined;
  /** The viewer count last told to the room, when it was told (ms), and the pending trailing update. */
  #countSent: { viewers: number; at: number } | undefined;
  #countTimer: NodeJS.Timeout | undefined;

  constructor(record: RoomRecord, ctx: RoomContext) {
    super();
    this.id = record.id;
    this.#ownerId = record.ownerId;
    this.#ctx = ctx;
    this.#log = ctx.log.child({ roomId: record.id });
  }

  /** True while a live runs. */
  get live(): boolean {
    return this.#live !== undefined;
  }

  /** Participants in the room who are not its host. */
  get viewers(): number {
    return this.#viewerIds.size;
  }

  /** True when nobody is in the room, it is not live and no change is pending. */
  get idle(): boolean {
    return this.#participants.size === 0 && !this.#live && this.#queue.pending === 0;
  }

  has(p: Participant): boolean {
    return this.#participants.has(p.id);
  }

  summary(): RoomSummary {
    const record = this.#ctx.store.roomById(this.id);
    if (!record) throw new Error(`room ${this.id} vanished from the store`);
    return roomSummary(this.#ctx.store, record, {
      liveId: this.#live?.record.id ?? null,
      viewers: this.viewers,
    });
  }

  #roleOf(p: Participant): Role {
    return p.user !== undefined && p.user.id === this.#ownerId ? 'host' : 'viewer';
  }

  #broadcast<M extends NotificationMethod>(method: M, params: NotificationParams[M]): void {
    for (const p of this.#participants.values()) p.notify(method, params);
  }

  /** Tells the room its viewer count now, or once the interval since the last one has passed. */
  #viewerCountChanged(): void {
    if (this.#countTimer) return; // the pending update will carry the latest count
    const wait = (this.#countSent?.at ?? -Infinity) + this.#ctx.viewerCountIntervalMs - Date.now();
    if (wait <= 0) {
      this.#sendViewerCount();
      return;
    }
    this.#countTimer = setTimeout(() => {
      this.#countTimer = undefined;
      this.#sendViewerCount();
    }, wait);
    this.#countTimer.unref();
  }

  #sendViewerCount(): void {
    const viewers = this.viewers;
    if (this.#countSent?.viewers === viewers) return;
    this.#countSent = { viewers, at: Date.now() };
    this.#broadcast('viewerCountChanged', { roomId: this.id, viewers });
  }

  /** Adds `p`; returns the room, `p`'s role and the last chat messages. */
  join(p: Participant): Promise<{ room: RoomSummary; role: Role; messages: ChatMessage[] }> {
    return this.#queue.push(() => {
      this.#participants.set(p.id, p);
      const role = this.#roleOf(p);
      this.#log.debug({ participantId: p.id, userId: p.user?.id, role }, 'joined');
      const before = this.#viewerIds.size;
      if (role === 'viewer') this.#viewerIds.add(p.id);
      else this.#viewerIds.delete(p.id);
      if (this.#viewerIds.size !== before) this.#viewerCountChanged();
      const messages = this.#ctx.store.messages(this.id, Limits.chatReplay).map(toChatMessage);
      return Promise.resolve({ room: this.summary(), role, messages });
    });
  }

  /** Removes `p` and its media; the live ends when `p` is its host. */
  leave(p: Participant): Promise<void> {
    return this.#queue.push(async () => {
      if (!this.#participants.delete(p.id)) return;
      this.#log.debug({ participantId: p.id }, 'left');
      if (this.#live?.hostId === p.id) await this.#endLive('hostLeft');
      else if (this.#live) {
        this.#live.media.disconnect(mediaKey(p, 'receive'));
        this.#live.media.disconnect(mediaKey(p, 'publish'));
      }
      if (this.#viewerIds.delete(p.id)) this.#viewerCountChanged();
      this.#emitIdleSoon();
    });
  }

  /** Emits '@idle' once the queue has drained, if the room is still idle then. */
  #emitIdleSoon(): void {
    queueMicrotask(() => {
      if (this.idle) this.emit('@idle');
    });
  }

  /**
   * Starts a live in this room: creates its media graph and the Live record (LiveId, LiveCode).
   * @throws ForbiddenError unless `p` is the room's owner; InvalidStateError when already live;
   *   MediaUnavailableError when KMS cannot be reached.
   */
  startLive(p: Participant): Promise<{ liveId: string; liveCode: string }> {
    return this.#queue.push(async () => {
      this.#requireMember(p);
      if (this.#roleOf(p) !== 'host')
        throw new ForbiddenError('Only the owner of this room can go live in it.');
      if (this.#live) throw new InvalidStateError('This room is live already. Stop the live first.');
      const record: LiveRecord = {
        id: randomUUID(),
        roomId: this.id,
        liveCode: randomBytes(18).toString('base64url'),
        startedAt: Date.now(),
        endedAt: null,
        endReason: null,
      };
      const media = await this.#ctx.media.createLive({ roomId: this.id, liveId: record.id });
      if (!this.#participants.has(p.id)) {
        media.close(); // the host left while the pipeline was being made
        throw new InvalidStateError('You left the room before the live started.');
      }
      try {
        await this.#ctx.store.addLive(record);
      } catch (err) {
        media.close();
        throw err;
      }
      media.on('close', (reason) => {
        void this.#queue.push(() =>
          this.#live?.media === media ? this.#endLive(reason) : Promise.resolve(),
        );
      });
      this.#live = { record, media, hostId: p.id };
      this.#log.info({ liveId: record.id, userId: p.user?.id }, 'live started');
      this.#broadcast('liveStarted', { roomId: this.id, liveId: record.id });
      return { liveId: record.id, liveCode: record.liveCode };
    });
  }

  /**
   * Ends the live.
   * @throws ForbiddenError unless `p` is the owner; InvalidStateError when not live.
   */
  stopLive(p: Participant): Promise<void> {
    return this.#queue.push(async () => {
      this.#requireMember(p);
      if (this.#roleOf(p) !== 'host')
        throw new ForbiddenError('Only the owner of this room can stop its live.');
      if (!this.#live) throw new InvalidStateError('This room is not live.');
      await this.#endLive('stopped');
    });
  }

  /** Ends the live on behalf of its owner from outside a connection (REST). */
  stopLiveByOwner(userId: string): Promise<void> {
    return this.#queue.push(async () => {
      if (this.#ownerId !== userId)
        throw new ForbiddenError('Only the owner of this room can stop its live.');
      if (!this.#live) throw new InvalidStateError('This room is not live.');
      await this.#endLive('stopped');
      this.#emitIdleSoon();
    });
  }

  async #endLive(reason: EndReason): Promise<void> {
    const live = this.#live;
    if (!live) return;
    this.#live = undefined;
    live.media.close();
    this.#log.info({ liveId: live.record.id, reason }, 'live ended');
    try {
      await this.#ctx.store.endLive(live.record.id, reason);
    } catch (err) {
      this.#log.error({ err, liveId: live.record.id }, 'could not record the end of a live');
    }
    if (reason === 'mediaServerLost' || reason === 'mediaError') {
      this.#broadcast('mediaError', {
        code: ErrorCode.MediaUnavailable,
        message:
          reason === 'mediaServerLost'
            ? 'The media server went away, so the live ended. The host can go live again once it is back.'
            : 'The media server failed, so the live ended.',
      });
    }
    this.#broadcast('liveEnded', { roomId: this.id, liveId: live.record.id, reason });
  }

  /**
   * The host sends its camera: returns the SDP answer of the host's WebRtcEndpoint.
   * @throws InvalidStateError when not live or `p` did not start the live.
   */
  publish(p: Participant, sdpOffer: string): Promise<string> {
    return this.#queue.push(() => {
      this.#requireMember(p);
      const live = this.#live;
      if (!live) throw new InvalidStateError('Go live (startLive) before sending video.');
      if (live.hostId !== p.id) {
        throw this.#roleOf(p) === 'host'
          ? new InvalidStateError('This live was started from another window; send video from there.')
          : new ForbiddenError('Only the host can send video in this room.');
      }
      return live.media.publish(mediaKey(p, 'publish'), sdpOffer, (candidate) =>
        p.notify('iceCandidate', { endpoint: 'publish', candidate }),
      );
    });
  }

  /**
   * A participant watches the live: returns the SDP answer of its receive-only WebRtcEndpoint.
   * Viewers joining at once negotiate in parallel, outside the room's queue: the media graph keeps
   * itself consistent (a live ending or the viewer leaving meanwhile fails the call and releases
   * the endpoint).
   * @throws InvalidStateError when not live, or when the live ends or `p` leaves meanwhile.
   */
  async receive(p: Participant, sdpOffer: string): Promise<string> {
    this.#requireMember(p);
    const live = this.#live;
    if (!live) throw new InvalidStateError('This room is not live yet; wait for liveStarted.');
    return await live.media.receive(mediaKey(p, 'receive'), sdpOffer, (candidate) =>
      p.notify('iceCandidate', { endpoint: 'receive', candidate }),
    );
  }

  /** Passes a browser's ICE candidate to the media server (queued there until its endpoint exists). */
  addIceCandidate(p: Participant, endpoint: EndpointKind, candidate: IceCandidateInit): void {
    this.#requireMember(p);
    if (!this.#live)
      throw new InvalidStateError('This room is not live; there is no connection to add a candidate to.');
    this.#live.media.addIceCandidate(mediaKey(p, endpoint), candidate);
  }

  /**
   * Posts a chat message from a logged-in participant, stores it, and sends it to everyone in the room.
   * `text` is already trimmed and within Limits.maxChatChars.
   * @throws UnauthenticatedError for anonymous participants; RateLimitedError when sending too fast.
   */
  async sendMessage(p: Participant, text: string): Promise<ChatMessage> {
    this.#requireMember(p);
    const user = p.user;
    if (!user) throw new UnauthenticatedError('Log in to chat.');
    try {
      await this.#ctx.chatLimiter.consume(user.id);
    } catch {
      throw new RateLimitedError('You are sending messages too fast. Wait a few seconds.');
    }
    const record: MessageRecord = {
      id: randomUUID(),
      roomId: this.id,
      userId: user.id,
      userName: publicUser(user).name,
      text,
      sentAt: Date.now(),
    };
    await this.#ctx.store.addMessage(record);
    const message = toChatMessage(record);
    this.#broadcast('messageReceived', { message });
    return message;
  }

  /** Ends any live and tells everyone the room closed (app shutdown). */
  close(reason: EndReason): Promise<void> {
    return this.#queue.push(async () => {
      await this.#endLive(reason);
      this.#broadcast('roomClosed', { roomId: this.id, reason });
      this.#participants.clear();
      this.#viewerIds.clear();
      clearTimeout(this.#countTimer);
      this.#countTimer = undefined;
    });
  }

  #requireMember(p: Participant): void {
    if (!this.#participants.has(p.id)) throw new InvalidStateError('Join the room first (joinRoom).');
  }
}

/**
 * One stored room in use: who is in it, its chat, its stage settings, and its Live while there is
 * one. Every change runs on the room's queue (awaitqueue, one task at a time); chat, ICE candidates
 * and viewers' negotiations, which change no room state, skip it. Room turns changes into
 * notifications: to everyone, to the host's windows, or to one participant.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { AwaitQueue } from 'awaitqueue';
import type { RateLimiterMemory } from 'rate-limiter-flexible';
import { publicUser } from '../auth/AuthService.js';
import {
  ErrorCode,
  ForbiddenError,
  InvalidStateError,
  NotFoundError,
  RateLimitedError,
  TheiaError,
  UnauthenticatedError,
} from '../errors.js';
import type { Logger } from '../logger.js';
import {
  Limits,
  type ChatMessage,
  type CoHostEndReason,
  type CoHostRequest,
  type EndReason,
  type EndpointKind,
  type IceCandidateInit,
  type Layout,
  type NotificationMethod,
  type NotificationParams,
  type Role,
  type RoomSummary,
  type StageState,
} from '../protocol/index.js';
import type { LiveRecord, MessageRecord, RoomRecord, Store } from '../store/Store.js';
import { Live } from './Live.js';
import { destinationUrl, type EgressService } from './egress.js';
import type { MediaService } from './media.js';
import type { Participant } from './Participant.js';
import type { Guest } from './Stage.js';

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
  /** Guest seats on a stage besides the host (config MAX_GUESTS). */
  maxGuests: number;
  /** DASH/HLS egress of each live; none when disabled. */
  egress?: EgressService;
  /**
   * How long a live waits for its host's connection to come back after it dropped, ms
   * (HOST_GRACE_MS); 0 ends the live at once.
   */
  hostGraceMs: number;
}

/** A stored room's stage settings, with the defaults of rooms stored before co-hosting existed. */
function settingsOf(record: RoomRecord): Omit<StageState, 'stage'> {
  return {
    coHosting: record.coHosting ?? false,
    layout: record.layout ?? 'pip',
    faceDetection: record.faceDetection ?? false,
  };
}

/** A stored room as the room list shows it; `state` is what only an active Room knows. */
export function roomSummary(
  store: Store,
  record: RoomRecord,
  state: Pick<RoomSummary, 'liveId' | 'viewers' | 'stage' | 'mpdUrl' | 'hlsUrl'> = {
    liveId: null,
    viewers: 0,
    stage: [],
    mpdUrl: null,
    hlsUrl: null,
  },
): RoomSummary {
  const owner = store.userById(record.ownerId);
  return {
    id: record.id,
    title: record.title,
    host: { id: record.ownerId, name: owner?.name ?? '' },
    live: state.liveId !== null,
    liveId: state.liveId,
    viewers: state.viewers,
    ...settingsOf(record),
    stage: state.stage,
    mpdUrl: state.mpdUrl,
    hlsUrl: state.hlsUrl,
  };
}

/** Where a room's DASH manifest and HLS master playlist are served (http/ serves `<DATA_DIR>/dash`). */
export function dashUrls(roomId: string): { mpdUrl: string; hlsUrl: string } {
  const base = `/dash/${encodeURIComponent(roomId)}`;
  return { mpdUrl: `${base}/manifest.mpd`, hlsUrl: `${base}/master.m3u8` };
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

const publicRequest = ({ userId, name, requestedAt }: CoHostRequest): CoHostRequest => ({
  userId,
  name,
  requestedAt,
});

export class Room extends EventEmitter<RoomEvents> {
  readonly id: string;
  /** A room's owner never changes: kept here so roles need no store look-up. */
  readonly #ownerId: string;
  readonly #ctx: RoomContext;
  readonly #log: Logger;
  readonly #queue = new AwaitQueue();
  readonly #participants = new Map<string, Participant>();
  /** Participants who joined as viewers (the count is kept, not recounted per join). */
  readonly #viewerIds = new Set<string>();
  #live: Live | undefined;
  #closed = false;
  /** The viewer count last told to the room, when it was told (ms), and the pending trailing update. */
  #countSent: { viewers: number; at: number } | undefined;
  #countTimer: NodeJS.Timeout | undefined;
  /** Participants off stage receiving the program over WebRTC (config MAX_WEBRTC_VIEWERS). */
  readonly #webRtcViewers = new Set<string>();

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
    return this.#participants.size === 0 && !this.#live && this.#queue.size === 0;
  }

  get closed(): boolean {
    return this.#closed;
  }

  has(p: Participant): boolean {
    return this.#participants.has(p.id);
  }

  #record(): RoomRecord {
    const record = this.#ctx.store.roomById(this.id);
    if (!record) throw new Error(`room ${this.id} vanished from the store`);
    return record;
  }

  summary(): RoomSummary {
    return roomSummary(this.#ctx.store, this.#record(), {
      liveId: this.#live?.record.id ?? null,
      viewers: this.viewers,
      stage: this.#stageMembers(),
      ...this.#egressState(),
    });
  }

  #egressState(): { mpdUrl: string | null; hlsUrl: string | null } {
    return this.#live?.egress?.status === 'ready' ? dashUrls(this.id) : { mpdUrl: null, hlsUrl: null };
  }

  #stageMembers(): StageState['stage'] {
    const owner = this.#ctx.store.userById(this.#ownerId);
    return this.#live?.members(owner?.name ?? '') ?? [];
  }

  #roleOf(p: Participant): Role {
    return p.user !== undefined && p.user.id === this.#ownerId ? 'host' : 'viewer';
  }

  /** Runs a change of the room's state after the ones before it. @throws InvalidStateError once closed. */
  #run<T>(name: string, task: () => Promise<T>): Promise<T> {
    if (this.#closed)
      return Promise.reject(new InvalidStateError('This room is closing. Try again in a moment.'));
    return this.#queue.push(task, name);
  }

  #broadcast<M extends NotificationMethod>(method: M, params: NotificationParams[M]): void {
    for (const p of this.#participants.values()) p.notify(method, params);
  }

  /** Tells everyone in the room (for changes made outside it, e.g. a rename over REST). */
  tell<M extends NotificationMethod>(method: M, params: NotificationParams[M]): void {
    this.#broadcast(method, params);
  }

  /** Tells every window of the room's owner. */
  #notifyHosts<M extends NotificationMethod>(method: M, params: NotificationParams[M]): void {
    for (const p of this.#participants.values()) if (this.#roleOf(p) === 'host') p.notify(method, params);
  }

  #broadcastStage(): void {
    this.#broadcast('stageChanged', {
      roomId: this.id,
      ...settingsOf(this.#record()),
      stage: this.#stageMembers(),
    });
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

  /** Adds `p`; returns the room, `p`'s role, the last chat messages and (for the host) the pending requests. */
  join(p: Participant): Promise<{
    room: RoomSummary;
    role: Role;
    messages: ChatMessage[];
    requests: CoHostRequest[];
    publishing: boolean;
  }> {
    return this.#run('join', () => {
      this.#participants.set(p.id, p);
      const role = this.#roleOf(p);
      const live = this.#live;
      if (live?.hostAway && role === 'host') this.#hostBack(live, p);
      this.#log.debug({ participantId: p.id, userId: p.user?.id, role }, 'joined');
      const before = this.#viewerIds.size;
      if (role === 'viewer') this.#viewerIds.add(p.id);
      else this.#viewerIds.delete(p.id);
      if (this.#viewerIds.size !== before) this.#viewerCountChanged();
      const messages = this.#ctx.store.messages(this.id, Limits.chatReplay).map(toChatMessage);
      const requests = role === 'host' ? (this.#live?.stage.requests.map(publicRequest) ?? []) : [];
      const egress = role === 'host' ? this.#live?.egress : undefined;
      // after the joinRoom answer (sent once this task's promise settles)
      if (egress) setImmediate(() => p.notify('egressStatus', { roomId: this.id, ...egress.egressStatus() }));
      const publishing = this.#live?.hostId === p.id;
      return Promise.resolve({ room: this.summary(), role, messages, requests, publishing });
    });
  }

  /**
   * Removes `p` and its media; a guest leaves the stage. When `p` carries the live's camera, the
   * live ends — unless `p`'s connection dropped (`disconnected`) and HOST_GRACE_MS gives it time
   * to come back (`hostAway`).
   */
  leave(p: Participant, disconnected = false): Promise<void> {
    return this.#run('leave', async () => {
      if (!this.#participants.delete(p.id)) return;
      this.#log.debug({ participantId: p.id, disconnected }, 'left');
      const live = this.#live;
      if (live?.hostId === p.id) {
        if (disconnected && this.#ctx.hostGraceMs > 0) this.#hostAway(live, p);
        else await this.#endLive('hostLeft');
      } else if (live) {
        const guest = live.stage.guestOf(p);
        if (guest) await this.#endGuest(guest, 'disconnected');
        const request = live.stage.requestOf(p);
        if (request) {
          live.stage.dropRequest(request.userId);
          this.#notifyHosts('coHostRequestCancelled', { userId: request.userId });
        }
        live.disconnect(p);
      }
      if (this.#viewerIds.delete(p.id)) this.#viewerCountChanged();
      this.#webRtcViewers.delete(p.id);
      this.#emitIdleSoon();
    });
  }

  /**
   * The host's connection dropped: its feed stays (viewers keep their connections), its views of
   * others go, and the live waits HOST_GRACE_MS for one of the owner's connections to join again.
   */
  #hostAway(live: Live, host: Participant): void {
    live.disconnectReceivers(host);
    const graceMs = this.#ctx.hostGraceMs;
    live.hostAway = setTimeout(() => {
      this.#run('host grace over', async () => {
        if (this.#live !== live || !live.hostAway) return;
        await this.#endLive('hostLeft');
        this.#emitIdleSoon(); // the room may be empty by now
      }).catch((err: unknown) => this.#log.debug({ err }, 'host grace ended after the room closed'));
    }, graceMs);
    live.hostAway.unref();
    this.#log.info({ liveId: live.record.id, graceMs }, 'host connection lost; waiting for it');
    this.#broadcast('hostAway', { roomId: this.id, liveId: live.record.id, graceMs });
  }

  /** One of the owner's connections joined while the live waited: it carries the live from now on. */
  #hostBack(live: Live, p: Participant): void {
    clearTimeout(live.hostAway);
    live.hostAway = undefined;
    live.hostId = p.id;
    this.#log.info({ liveId: live.record.id, participantId: p.id }, 'host back');
    this.#broadcast('hostBack', { roomId: this.id, liveId: live.record.id });
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
    return this.#run('startLive', async () => {
      this.#requireOwner(p, 'go live');
      if (this.#live) throw new InvalidStateError('This room is live already. Stop the live first.');
      const record = this.#newLiveRecord();
      const media = await this.#ctx.media.createLive({ roomId: this.id, liveId: record.id });
      const live = new Live(record, media, p, this.#ownerId, this.#ctx.maxGuests);
      try {
        if (!this.#participants.has(p.id))
          throw new InvalidStateError('You left the room before the live started.');
        const settings = settingsOf(this.#record());
        await live.applyStage(settings.layout);
        if (settings.faceDetection) await media.setFaceOverlay(true);
        await this.#ctx.store.addLive(record);
        media.on('close', (reason) => {
          this.#run('media closed', () =>
            this.#live?.media === media ? this.#endLive(reason) : Promise.resolve(),
          ).catch((err: unknown) => this.#log.debug({ err }, 'media closed after the room'));
        });
        this.#live = live;
      } catch (err) {
        media.close();
        throw err;
      }
      this.#startEgress(live);
      this.#log.info({ liveId: record.id, userId: p.user?.id }, 'live started');
      this.#broadcast('liveStarted', { roomId: this.id, liveId: record.id });
      this.#broadcastStage();
      return { liveId: record.id, liveCode: record.liveCode };
    });
  }

  /**
   * Starts the live's DASH/HLS and RTMP pushes (the room's destinations as stored now), if egress
   * is on; viewers learn DASH is ready from `egressChanged`, the host every change from `egressStatus`.
   */
  #startEgress(live: Live): void {
    if (!this.#ctx.egress) return;
    const destinations = (this.#record().rtmpDestinations ?? []).map((d) => ({
      id: d.id,
      url: destinationUrl(d.url, d.key),
    }));
    const egress = this.#ctx.egress.start(
      { roomId: this.id, liveId: live.record.id },
      live.media,
      destinations,
    );
    live.egress = egress;
    const tellHosts = (): void => {
      if (this.#live === live)
        this.#notifyHosts('egressStatus', { roomId: this.id, ...egress.egressStatus() });
    };
    egress.on('change', (status, reason) => {
      if (reason) this.#log.warn({ liveId: live.record.id, status, reason }, 'DASH egress');
      if (this.#live === live) this.#broadcast('egressChanged', { roomId: this.id, ...this.#egressState() });
      tellHosts();
    });
    egress.on('destinationChanged', tellHosts);
    tellHosts();
  }

  #newLiveRecord(extra: Partial<LiveRecord> = {}): LiveRecord {
    return {
      id: randomUUID(),
      roomId: this.id,
      liveCode: randomBytes(18).toString('base64url'),
      startedAt: Date.now(),
      endedAt: null,
      endReason: null,
      ...extra,
    };
  }

  /**
   * Ends the live.
   * @throws ForbiddenError unless `p` is the owner; InvalidStateError when not live.
   */
  stopLive(p: Participant): Promise<void> {
    return this.#run('stopLive', async () => {
      this.#requireOwner(p, 'stop the live');
      if (!this.#live) throw new InvalidStateError('This room is not live.');
      await this.#endLive('stopped');
    });
  }

  /** Ends the live on behalf of its owner from outside a connection (REST). */
  stopLiveByOwner(userId: string): Promise<void> {
    return this.#run('stopLiveByOwner', async () => {
      if (this.#ownerId !== userId)
        throw new ForbiddenError('Only the owner of this room can stop its live.');
      if (!this.#live) throw new InvalidStateError('This room is not live.');
      await this.#endLive('stopped');
      this.#emitIdleSoon();
    });
  }

  /** True while `liveId` (the room's live or a guest's) runs and `liveCode` is its code. */
  verifyLive(liveId: string, liveCode: string): boolean {
    const live = this.#live;
    if (!live) return false;
    const record =
      live.record.id === liveId ? live.record : live.stage.guests.find((g) => g.live.id === liveId)?.live;
    return record?.liveCode === liveCode;
  }

  async #endLive(reason: EndReason): Promise<void> {
    const live = this.#live;
    if (!live) return;
    this.#live = undefined;
    clearTimeout(live.hostAway);
    live.hostAway = undefined;
    this.#webRtcViewers.clear();
    live.egress?.close();
    live.media.close();
    this.#log.info({ liveId: live.record.id, reason }, 'live ended');
    const { guests } = live.stage.clear();
    const ended = [live.record.id, ...guests.map((g) => g.live.id)];
    try {
      for (const id of ended) await this.#ctx.store.endLive(id, reason);
    } catch (err) {
      this.#log.error({ err, liveId: live.record.id }, 'could not record the end of a live');
    }
    for (const g of guests) g.participant.notify('coHostEnded', { userId: g.userId, reason: 'liveEnded' });
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
    this.#broadcastStage();
  }

  /**
   * A stage member sends its camera: returns the SDP answer of its WebRtcEndpoint.
   * @throws InvalidStateError when not live or `p` is the owner's other window; ForbiddenError for viewers.
   */
  publish(p: Participant, sdpOffer: string, options: { complete?: boolean } = {}): Promise<string> {
    return this.#run('publish', () => {
      this.#requireMember(p);
      const live = this.#live;
      if (!live) throw new InvalidStateError('Go live (startLive) before sending video.');
      return live.publish(
        p,
        this.#roleOf(p) === 'host',
        sdpOffer,
        (candidate) => p.notify('iceCandidate', { endpoint: 'publish', candidate }),
        options,
      );
    });
  }

  /**
   * The host's media as plain RTP (the RTMP bridge, a PC client): returns the media server's SDP
   * answer. @throws like publish.
   */
  publishRtp(p: Participant, sdpOffer: string): Promise<string> {
    return this.#run('publishRtp', () => {
      this.#requireMember(p);
      const live = this.#live;
      if (!live) throw new InvalidStateError('Go live (startLive) before sending media.');
      return live.publishRtp(p, sdpOffer);
    });
  }

  /**
   * A participant watches the live (the program), or a stage member watches member `from`
   * directly; returns the SDP answer of its receive-only WebRtcEndpoint. Viewers negotiate in
   * parallel, outside the room's queue: the media graph keeps itself consistent (a live ending or
   * the viewer leaving meanwhile fails the call and releases the endpoint).
   * @throws InvalidStateError when not live, or when the live ends or `p` leaves meanwhile;
   *   ForbiddenError / NotFoundError for a `from` that `p` may not watch.
   */
  async receive(p: Participant, sdpOffer: string, from?: string): Promise<string> {
    this.#requireMember(p);
    const live = this.#live;
    if (!live) throw new InvalidStateError('This room is not live yet; wait for liveStarted.');
    const endpoint: EndpointKind = from === undefined ? 'receive' : `receive:${from}`;
    const counted = from === undefined && !live.onStage(p) && !this.#webRtcViewers.has(p.id);
    if (counted) {
      const max = this.#ctx.egress?.maxWebRtcViewers ?? 0;
      if (max > 0 && this.#webRtcViewers.size >= max)
        throw new TheiaError(
          ErrorCode.WebRtcViewerLimit,
          'This live has as many low-latency (WebRTC) viewers as it can serve. Watch it over DASH instead.',
          { status: 503 },
        );
      this.#webRtcViewers.add(p.id); // before the negotiation: parallel calls count too
    }
    try {
      return await live.receive(
        p,
        sdpOffer,
        (candidate) => p.notify('iceCandidate', { endpoint, candidate }),
        from,
      );
    } catch (err) {
      if (counted) this.#webRtcViewers.delete(p.id);
      throw err;
    }
  }

  /**
   * Releases one of `p`'s receive-only connections (a guest no longer watching the program, a tile
   * that failed); a no-op when it has none of that name.
   */
  stopReceiving(p: Participant, endpoint: Exclude<EndpointKind, 'publish'>): void {
    this.#requireMember(p);
    if (endpoint === 'receive') this.#webRtcViewers.delete(p.id);
    this.#live?.disconnectOne(p, endpoint);
  }

  /** Passes a browser's ICE candidate to the media server (queued there until its endpoint exists). */
  addIceCandidate(p: Participant, endpoint: EndpointKind, candidate: IceCandidateInit): void {
    this.#requireMember(p);
    if (!this.#live)
      throw new InvalidStateError('This room is not live; there is no connection to add a candidate to.');
    this.#live.addIceCandidate(p, endpoint, candidate);
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

  // --- co-hosting ----------------------------------------------------------------------------

  /**
   * The host opens or closes the stage to requests (kept with the room). Closing answers every
   * pending request with `coHostRejected {reason: "closed"}`; guests on stage stay.
   * @throws UnauthenticatedError, ForbiddenError unless `p` is the owner.
   */
  setCoHosting(p: Participant, enabled: boolean): Promise<void> {
    return this.#run('setCoHosting', async () => {
      this.#requireOwner(p, 'open or close co-hosting');
      await this.#ctx.store.updateRoom(this.id, { coHosting: enabled });
      if (!enabled && this.#live) {
        for (const r of this.#live.stage.requests) {
          this.#live.stage.dropRequest(r.userId);
          r.participant.notify('coHostRejected', { userId: r.userId, reason: 'closed' });
        }
      }
      this.#broadcastStage();
    });
  }

  /**
   * A logged-in viewer asks to join the stage; the host's windows get `coHostRequested`.
   * @throws UnauthenticatedError for visitors; ForbiddenError for the owner; InvalidStateError when
   *   not live, co-hosting is closed, or `p` asked already or is on stage.
   */
  requestCoHost(p: Participant): Promise<void> {
    return this.#run('requestCoHost', () => {
      this.#requireMember(p);
      const user = p.user;
      if (!user) throw new UnauthenticatedError('Log in to ask to join the stage.');
      if (this.#roleOf(p) === 'host')
        throw new ForbiddenError('You host this room: you are on its stage already.');
      const live = this.#live;
      if (!live) throw new InvalidStateError('This room is not live; you can ask to join once it is.');
      if (!settingsOf(this.#record()).coHosting)
        throw new InvalidStateError('Co-hosting is closed in this room. The host can open it.');
      const request = { userId: user.id, name: user.name, requestedAt: Date.now(), participant: p };
      live.stage.addRequest(request);
      this.#notifyHosts('coHostRequested', publicRequest(request));
      return Promise.resolve();
    });
  }

  /** @throws InvalidStateError when `p` has no pending request. */
  cancelCoHostRequest(p: Participant): Promise<void> {
    return this.#run('cancelCoHostRequest', () => {
      this.#requireMember(p);
      const request = this.#live?.stage.requestOf(p);
      if (!request) throw new InvalidStateError('You have not asked to join the stage.');
      this.#live!.stage.dropRequest(request.userId);
      this.#notifyHosts('coHostRequestCancelled', { userId: request.userId });
      return Promise.resolve();
    });
  }

  /**
   * The host accepts `userId`'s request: the viewer becomes a guest with a Live of its own
   * (LiveId + LiveCode), and may publish; the mix starts once it does.
   * @throws ForbiddenError unless the owner; InvalidStateError when not live or the stage is full;
   *   NotFoundError when that viewer is not asking (any more).
   */
  acceptCoHost(p: Participant, userId: string): Promise<{ userId: string; liveId: string }> {
    return this.#run('acceptCoHost', async () => {
      this.#requireOwner(p, 'accept guests');
      const live = this.#live;
      if (!live) throw new InvalidStateError('This room is not live.');
      live.stage.assertSeat(); // the request stays when the stage is full
      const request = live.stage.takeRequest(userId);
      const record = this.#newLiveRecord({ userId, hostLiveId: live.record.id });
      await this.#ctx.store.addLive(record);
      live.stage.addGuest({ userId, name: request.name, participant: request.participant, live: record });
      await live.applyStage(settingsOf(this.#record()).layout);
      this.#log.info({ guestId: userId, liveId: record.id }, 'guest on stage');
      request.participant.notify('coHostAccepted', {
        userId,
        liveId: record.id,
        liveCode: record.liveCode,
        hostLiveId: live.record.id,
      });
      this.#notifyHosts('coHostAccepted', { userId, liveId: record.id, hostLiveId: live.record.id });
      this.#broadcastStage();
      return { userId, liveId: record.id };
    });
  }

  /** @throws ForbiddenError unless the owner; NotFoundError when that viewer is not asking. */
  rejectCoHost(p: Participant, userId: string): Promise<void> {
    return this.#run('rejectCoHost', () => {
      this.#requireOwner(p, 'answer requests');
      const live = this.#live;
      if (!live) throw new InvalidStateError('This room is not live.');
      const request = live.stage.takeRequest(userId);
      request.participant.notify('coHostRejected', { userId, reason: 'rejected' });
      return Promise.resolve();
    });
  }

  /**
   * The host removes guest `userId`, or a guest leaves the stage (no `userId`, or its own). A
   * removed guest keeps watching the live.
   * @throws InvalidStateError when `p` is not on stage; NotFoundError for a `userId` that is not a
   *   guest; ForbiddenError for a guest naming another one.
   */
  endCoHost(p: Participant, userId?: string): Promise<void> {
    return this.#run('endCoHost', async () => {
      this.#requireMember(p);
      const live = this.#live;
      if (!live) throw new InvalidStateError('This room is not live.');
      if (this.#roleOf(p) === 'host' && userId !== undefined) {
        const guest = live.stage.guest(userId);
        if (!guest) throw new NotFoundError('That user is not a guest on the stage.');
        await this.#endGuest(guest, 'removed');
        return;
      }
      const guest = live.stage.guestOf(p);
      if (!guest) throw new InvalidStateError('You are not on the stage.');
      if (userId !== undefined && userId !== guest.userId)
        throw new ForbiddenError('Only the host can take someone else off the stage.');
      await this.#endGuest(guest, 'left');
    });
  }

  async #endGuest(guest: Guest, reason: CoHostEndReason): Promise<void> {
    const live = this.#live;
    if (!live?.stage.removeGuest(guest.userId)) return;
    await live.removeGuestMedia(guest);
    await live.applyStage(settingsOf(this.#record()).layout);
    try {
      await this.#ctx.store.endLive(guest.live.id, reason);
    } catch (err) {
      this.#log.error({ err, liveId: guest.live.id }, 'could not record the end of a guest live');
    }
    this.#log.info({ guestId: guest.userId, reason }, 'guest left the stage');
    guest.participant.notify('coHostEnded', { userId: guest.userId, reason });
    this.#notifyHosts('coHostEnded', { userId: guest.userId, reason });
    this.#broadcastStage();
  }

  /**
   * The host picks how the stage is mixed (kept with the room); viewers switch without renegotiating.
   * @throws ForbiddenError unless the owner.
   */
  setLayout(p: Participant, layout: Layout): Promise<void> {
    return this.#run('setLayout', async () => {
      this.#requireOwner(p, 'change the layout');
      await this.#ctx.store.updateRoom(this.id, { layout });
      if (this.#live) await this.#live.applyStage(layout);
      this.#broadcastStage();
    });
  }

  /**
   * The host switches face detection for everyone on stage (kept with the room, applies to guests
   * who come later).
   * @throws ForbiddenError unless the owner; MediaError when KMS refuses.
   */
  setFaceDetection(p: Participant, enabled: boolean): Promise<void> {
    return this.#run('setFaceDetection', async () => {
      this.#requireOwner(p, 'switch face detection');
      await this.#ctx.store.updateRoom(this.id, { faceDetection: enabled });
      if (this.#live) await this.#live.media.setFaceOverlay(enabled);
      this.#broadcastStage();
    });
  }

  // --- lifecycle -----------------------------------------------------------------------------

  /** Ends any live, tells everyone the room closed, and refuses further changes (app shutdown). */
  async close(reason: EndReason): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue.push(async () => {
      await this.#endLive(reason);
      this.#broadcast('roomClosed', { roomId: this.id, reason });
      this.#participants.clear();
      this.#viewerIds.clear();
      clearTimeout(this.#countTimer);
      this.#countTimer = undefined;
    }, 'close');
    this.#queue.stop();
  }

  #requireMember(p: Participant): void {
    if (!this.#participants.has(p.id)) throw new InvalidStateError('Join the room first (joinRoom).');
  }

  /** @throws UnauthenticatedError for visitors, ForbiddenError for everyone but the owner. */
  #requireOwner(p: Participant, action: string): void {
    this.#requireMember(p);
    if (!p.user) throw new UnauthenticatedError(`Log in to ${action}.`);
    if (this.#roleOf(p) !== 'host') throw new ForbiddenError(`Only the host of this room can ${action}.`);
  }
}

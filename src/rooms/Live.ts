/**
 * One live of a room: its record (LiveId, LiveCode), its media graph, the participant that started
 * it (the only one that may publish the host's camera), and its Stage. It maps participants to the
 * media layer's feeds (a stage member's user id) and connections (`<participantId>:<endpoint>`),
 * and checks who may publish and whom they may watch. Room decides when, and tells people.
 */
import { ForbiddenError, InvalidStateError, NotFoundError } from '../errors.js';
import type { EndpointKind, IceCandidateInit, Layout, StageMember } from '../protocol/index.js';
import type { LiveRecord } from '../store/Store.js';
import type { LiveEgress } from './egress.js';
import type { CandidateListener, LiveMedia } from './media.js';
import type { Participant } from './Participant.js';
import { Stage, type Guest } from './Stage.js';

export class Live {
  readonly record: LiveRecord;
  readonly media: LiveMedia;
  /** The room owner's user id: the host's feed. */
  readonly ownerId: string;
  /**
   * The connection that carries the host's camera (the one that started the live, or the one that
   * came back after it dropped): alone may publish the host's feed.
   */
  hostId: string;
  /** While the host's connection is gone and the live waits for it (HOST_GRACE_MS): the timer. */
  hostAway: NodeJS.Timeout | undefined;
  readonly stage: Stage;
  /** The live's DASH/HLS output, when egress is on. */
  egress: LiveEgress | undefined;
  /** Every connection a participant has in the media graph, by participant id. */
  readonly #endpoints = new Map<string, Set<EndpointKind>>();

  constructor(record: LiveRecord, media: LiveMedia, host: Participant, ownerId: string, maxGuests: number) {
    this.record = record;
    this.media = media;
    this.hostId = host.id;
    this.ownerId = ownerId;
    this.stage = new Stage(maxGuests);
  }

  /** The stage's feeds: the host's first, then each guest's. */
  get feedIds(): string[] {
    return [this.ownerId, ...this.stage.guests.map((g) => g.userId)];
  }

  /** The stage as people see it. */
  members(ownerName: string): StageMember[] {
    return [
      { userId: this.ownerId, name: ownerName, role: 'host', liveId: this.record.id },
      ...this.stage.guests.map((g) => ({
        userId: g.userId,
        name: g.name,
        role: 'guest' as const,
        liveId: g.live.id,
      })),
    ];
  }

  /** Tells the media graph who is on stage and how to mix them. */
  applyStage(layout: Layout): Promise<void> {
    return this.media.setStage(this.feedIds, layout);
  }

  /** True when `p` may send a camera into this live: the host's window that started it, or a guest. */
  #feedOf(p: Participant): string | undefined {
    if (p.id === this.hostId) return this.ownerId;
    return this.stage.guestOf(p)?.userId;
  }

  /** True when `p` is on the stage (the host's live window or a guest). */
  onStage(p: Participant): boolean {
    return this.#feedOf(p) !== undefined;
  }

  #connectionId(p: Participant, endpoint: EndpointKind): string {
    let kinds = this.#endpoints.get(p.id);
    if (!kinds) {
      kinds = new Set();
      this.#endpoints.set(p.id, kinds);
    }
    kinds.add(endpoint);
    return `${p.id}:${endpoint}`;
  }

  /**
   * Publishes `p`'s camera as its stage feed; returns the SDP answer.
   * @param isOwner whether `p` is the room's owner (for the error a non-member gets)
   * @throws InvalidStateError for the owner's other windows; ForbiddenError for viewers; MediaError.
   */
  publish(
    p: Participant,
    isOwner: boolean,
    sdpOffer: string,
    onCandidate: CandidateListener,
    options: { complete?: boolean } = {},
  ): Promise<string> {
    const feedId = this.#feedOf(p);
    if (feedId === undefined) {
      throw isOwner
        ? new InvalidStateError('This live was started from another window; send video from there.')
        : new ForbiddenError('Only the host and guests on the stage can send video in this room.');
    }
    return this.media.addFeed(feedId, this.#connectionId(p, 'publish'), sdpOffer, onCandidate, options);
  }

  /**
   * The host's media as plain RTP (only the participant that started the live).
   * @throws ForbiddenError for anyone else; MediaError.
   */
  publishRtp(p: Participant, sdpOffer: string): Promise<string> {
    if (p.id !== this.hostId)
      throw new ForbiddenError('Only the live that started this room may send RTP into it.');
    return this.media.addRtpFeed(this.ownerId, sdpOffer);
  }

  /**
   * A receive-only connection for `p`: the program, or stage member `from` directly (for stage
   * members only); returns the SDP answer.
   * @throws ForbiddenError when `p` is not on stage but names `from`; NotFoundError when `from` is
   *   not on stage; InvalidStateError when `from` is `p` itself; MediaError.
   */
  receive(p: Participant, sdpOffer: string, onCandidate: CandidateListener, from?: string): Promise<string> {
    if (from === undefined)
      return this.media.receive(this.#connectionId(p, 'receive'), sdpOffer, onCandidate);
    const own = this.#feedOf(p);
    if (own === undefined)
      throw new ForbiddenError('Only stage members can watch each other directly; watch the live.');
    if (from === own) throw new InvalidStateError('That is you: your own camera is shown locally.');
    if (!this.feedIds.includes(from)) throw new NotFoundError('That user is not on the stage.');
    const endpoint: EndpointKind = `receive:${from}`;
    return this.media.receive(this.#connectionId(p, endpoint), sdpOffer, onCandidate, from);
  }

  addIceCandidate(p: Participant, endpoint: EndpointKind, candidate: IceCandidateInit): void {
    this.media.addIceCandidate(this.#connectionId(p, endpoint), candidate);
  }

  /** Releases connection `endpoint` of `p`, if it has one. */
  disconnectOne(p: Participant, endpoint: EndpointKind): void {
    if (this.#endpoints.get(p.id)?.delete(endpoint)) this.media.disconnect(`${p.id}:${endpoint}`);
  }

  /** Releases `p`'s receive-only connections, keeping what it publishes (a host that dropped). */
  disconnectReceivers(p: Participant): void {
    const kinds = this.#endpoints.get(p.id);
    for (const endpoint of [...(kinds ?? [])]) {
      if (endpoint === 'publish') continue;
      kinds!.delete(endpoint);
      this.media.disconnect(`${p.id}:${endpoint}`);
    }
  }

  /** Releases every connection of `p` (it left the room, or the stage). */
  disconnect(p: Participant): void {
    for (const endpoint of this.#endpoints.get(p.id) ?? []) this.media.disconnect(`${p.id}:${endpoint}`);
    this.#endpoints.delete(p.id);
  }

  /**
   * Takes `guest` off the media graph: its feed, its connections, and every other member's direct
   * connection from it. The stage itself was changed by the caller.
   */
  async removeGuestMedia(guest: Guest): Promise<void> {
    await this.media.removeFeed(guest.userId);
    this.disconnect(guest.participant);
    const fromGuest: EndpointKind = `receive:${guest.userId}`;
    for (const [participantId, kinds] of this.#endpoints) {
      if (kinds.delete(fromGuest)) this.media.disconnect(`${participantId}:${fromGuest}`);
    }
  }
}

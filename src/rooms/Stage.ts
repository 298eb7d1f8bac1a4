/**
 * The co-host state machine of one live (连线/连麦): who asks to join the stage, in what order, and
 * who is on it. Pure state with the rules that keep it consistent; Live turns its transitions into
 * media changes and notifications.
 *
 * ```
 *  viewer ──requestCoHost──▶ pending ──acceptCoHost──▶ guest ──endCoHost / leaves──▶ viewer
 *                              │ └──rejectCoHost / cancelCoHostRequest / leaves / co-hosting closed──▶ viewer
 * ```
 */
import { InvalidStateError, NotFoundError } from '../errors.js';
import type { CoHostRequest } from '../protocol/index.js';
import type { LiveRecord } from '../store/Store.js';
import type { Participant } from './Participant.js';

/** A viewer waiting for the host's answer. */
export interface PendingRequest extends CoHostRequest {
  participant: Participant;
}

/** A viewer on the stage, with the Live record of its contribution. */
export interface Guest {
  userId: string;
  name: string;
  participant: Participant;
  live: LiveRecord;
}

export class Stage {
  /** Seats for guests besides the host (config MAX_GUESTS). */
  readonly maxGuests: number;
  /** Insertion order is the order of asking. */
  readonly #requests = new Map<string, PendingRequest>();
  /** Insertion order is the order of coming on stage. */
  readonly #guests = new Map<string, Guest>();

  constructor(maxGuests: number) {
    if (!Number.isInteger(maxGuests) || maxGuests < 1)
      throw new RangeError(`maxGuests must be a positive integer, got ${maxGuests}`);
    this.maxGuests = maxGuests;
  }

  /** Pending requests, oldest first. */
  get requests(): PendingRequest[] {
    return [...this.#requests.values()];
  }

  /** Guests, in the order they came on stage. */
  get guests(): Guest[] {
    return [...this.#guests.values()];
  }

  guest(userId: string): Guest | undefined {
    return this.#guests.get(userId);
  }

  /** The guest whose connection is `participant`, if any. */
  guestOf(participant: Participant): Guest | undefined {
    for (const g of this.#guests.values()) if (g.participant.id === participant.id) return g;
    return undefined;
  }

  /** The pending request made from `participant`, if any. */
  requestOf(participant: Participant): PendingRequest | undefined {
    for (const r of this.#requests.values()) if (r.participant.id === participant.id) return r;
    return undefined;
  }

  /**
   * Records a request.
   * @throws InvalidStateError when that user is on stage already or asked already.
   */
  addRequest(request: PendingRequest): void {
    if (this.#guests.has(request.userId)) throw new InvalidStateError('You are on the stage already.');
    if (this.#requests.has(request.userId))
      throw new InvalidStateError("You asked to join already. Wait for the host's answer, or cancel.");
    this.#requests.set(request.userId, request);
  }

  /**
   * Removes and returns the request of `userId`.
   * @throws NotFoundError when that user is not asking (they cancelled, left, or were answered).
   */
  takeRequest(userId: string): PendingRequest {
    const request = this.#requests.get(userId);
    if (!request) throw new NotFoundError('That viewer is not asking to join the stage (any more).');
    this.#requests.delete(userId);
    return request;
  }

  /** Removes the request of `userId` if there is one. */
  dropRequest(userId: string): PendingRequest | undefined {
    const request = this.#requests.get(userId);
    this.#requests.delete(userId);
    return request;
  }

  /** @throws InvalidStateError when every guest seat is taken. */
  assertSeat(): void {
    if (this.#guests.size >= this.maxGuests)
      throw new InvalidStateError(
        `The stage is full (${this.maxGuests} guest${this.maxGuests === 1 ? '' : 's'}). Remove a guest first.`,
      );
  }

  /** Puts `guest` on stage. @throws InvalidStateError when full or already on. */
  addGuest(guest: Guest): void {
    this.assertSeat();
    if (this.#guests.has(guest.userId)) throw new InvalidStateError('That viewer is on the stage already.');
    this.#guests.set(guest.userId, guest);
  }

  /** Takes `userId` off the stage; returns the guest, or undefined when not on it. */
  removeGuest(userId: string): Guest | undefined {
    const guest = this.#guests.get(userId);
    this.#guests.delete(userId);
    return guest;
  }

  /** Empties the stage and the requests (the live ended); returns what was there. */
  clear(): { guests: Guest[]; requests: PendingRequest[] } {
    const cleared = { guests: this.guests, requests: this.requests };
    this.#guests.clear();
    this.#requests.clear();
    return cleared;
  }
}

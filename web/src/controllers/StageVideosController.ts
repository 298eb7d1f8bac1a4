/**
 * A stage member's direct view of the other members (kurento-room's `receiveVideoFrom`): one
 * receive-only RTCPeerConnection per member, negotiated with `receiveVideo {sdpOffer, from}` and
 * trickling ICE tagged `receive:<userId>`. Host and guests see each other this way, one hop from
 * the camera, instead of through the mix viewers get. The server connects a connection as soon as
 * that member's camera arrives, so it may be opened right when the member comes on stage.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { ClientErrorCode, TheiaClientError, messageOf } from '../errors.js';
import type { NotificationParams, StageMember } from '../protocol.js';
import { PeerConnection } from '../webrtc/PeerConnection.js';
import type { SignallingController } from './SignallingController.js';

/** One member as this page receives them. */
export interface MemberVideo {
  member: StageMember;
  /** The receivers' tracks, for a <video> element's `srcObject`; undefined after a failure. */
  stream: MediaStream | undefined;
  /** `connectionState` of the peer connection; undefined when there is none. */
  media: RTCPeerConnectionState | undefined;
  /** Why this member cannot be seen, for the person to read. */
  error: string | undefined;
}

export interface StageVideosOptions {
  signalling: () => SignallingController | undefined;
  iceServers: () => RTCIceServer[];
}

interface Entry extends MemberVideo {
  connection: PeerConnection | undefined;
}

/** A member's place on the stage: a guest who comes back is a new contribution (a new LiveId). */
const keyOf = (member: StageMember): string => `${member.userId}/${member.liveId}`;

/** Owns the direct receive connections of one page; all closed when its host disconnects. */
export class StageVideosController implements ReactiveController {
  readonly #host: ReactiveControllerHost;
  readonly #options: StageVideosOptions;
  readonly #entries = new Map<string, Entry>();
  #connected = false;
  #unsubscribe: (() => void) | undefined;

  constructor(host: ReactiveControllerHost, options: StageVideosOptions) {
    this.#host = host;
    this.#options = options;
    host.addController(this);
  }

  /** The members watched, in the order given to {@link sync}. */
  get videos(): MemberVideo[] {
    return [...this.#entries.values()].map(({ member, stream, media, error }) => ({
      member,
      stream,
      media,
      error,
    }));
  }

  hostConnected(): void {
    this.#connected = true;
    this.#unsubscribe = this.#options
      .signalling()
      ?.on('mediaError', (p: NotificationParams['mediaError']) => this.#onMediaError(p));
  }

  hostDisconnected(): void {
    this.#connected = false;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.sync([]);
  }

  /**
   * Watches exactly `members`: opens a connection to each new one and closes those no longer
   * listed (they left the stage, or the live ended).
   */
  sync(members: readonly StageMember[]): void {
    const wanted = new Map(members.map((m) => [keyOf(m), m]));
    for (const [key, entry] of this.#entries) {
      if (!wanted.has(key)) {
        entry.connection?.close();
        this.#entries.delete(key);
      }
    }
    if (!this.#connected) return;
    const entries = new Map<string, Entry>();
    for (const [key, member] of wanted) {
      const entry = this.#entries.get(key) ?? this.#open(member);
      entry.member = member; // a new name is no new connection
      entries.set(key, entry);
    }
    // keep the stage's order
    this.#entries.clear();
    for (const [key, entry] of entries) this.#entries.set(key, entry);
    this.#host.requestUpdate();
  }

  /** Opens the connection to `userId` again after a failure. */
  retry(userId: string): void {
    for (const [key, entry] of this.#entries) {
      if (entry.member.userId !== userId || entry.connection) continue;
      this.#entries.set(key, this.#open(entry.member));
    }
    this.#host.requestUpdate();
  }

  #open(member: StageMember): Entry {
    const signalling = this.#options.signalling();
    const entry: Entry = {
      member,
      stream: undefined,
      media: undefined,
      error: undefined,
      connection: undefined,
    };
    if (!signalling) {
      entry.error = 'Not connected to the server. Reload the page to reconnect.';
      return entry;
    }
    const connection = new PeerConnection({
      signalling,
      endpoint: `receive:${member.userId}`,
      iceServers: this.#options.iceServers(),
      onStateChange: (state) => {
        entry.media = state;
        if (state === 'failed') {
          entry.error = `The video connection to ${entry.member.name} failed.`;
          this.#closeEntry(entry);
        }
        this.#update();
      },
    });
    entry.connection = connection;
    connection.pc.addTransceiver('video', { direction: 'recvonly' });
    connection.pc.addTransceiver('audio', { direction: 'recvonly' });
    entry.stream = new MediaStream(connection.pc.getReceivers().map((r) => r.track));
    entry.media = connection.pc.connectionState;
    connection.negotiate('receiveVideo', member.userId).catch((err: unknown) => {
      if (connection.closed || (err instanceof TheiaClientError && err.code === ClientErrorCode.Aborted))
        return;
      entry.error = messageOf(err);
      this.#closeEntry(entry);
      this.#update();
    });
    return entry;
  }

  #closeEntry(entry: Entry): void {
    entry.connection?.close();
    entry.connection = undefined;
    entry.stream = undefined;
    entry.media = undefined;
  }

  #onMediaError({ endpoint, message }: NotificationParams['mediaError']): void {
    for (const entry of this.#entries.values()) {
      if (endpoint === `receive:${entry.member.userId}`) entry.error = message;
    }
    this.#update();
  }

  #update(): void {
    if (this.#connected) this.#host.requestUpdate();
  }
}

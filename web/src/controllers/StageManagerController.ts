/**
 * The host's side of co-hosting (连麦): opening the stage to requests (`setCoHosting`), the
 * pending requests (`coHostRequested`, `coHostRequestCancelled`, and `joinRoom`'s `requests`),
 * answering them (`acceptCoHost`, `rejectCoHost`), taking guests off (`endCoHost {userId}`), the
 * mix's layout (`setLayout`) and face detection (`setFaceDetection`). The settings themselves are
 * the room's, told to everyone with `stageChanged`; this controller only keeps what is in flight
 * and what went wrong.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { messageOf } from '../errors.js';
import type { CoHostRequest, Layout, NotificationParams } from '../protocol.js';
import type { SignallingController } from './SignallingController.js';

export interface StageManagerOptions {
  signalling: () => SignallingController | undefined;
}

/** What can be in flight: a setting, or an answer about one user. */
export type StageAction =
  'coHosting' | 'layout' | 'faceDetection' | `accept:${string}` | `reject:${string}` | `remove:${string}`;

/** Owns the host's request list and co-host actions; forgotten when its host disconnects. */
export class StageManagerController implements ReactiveController {
  readonly #host: ReactiveControllerHost;
  readonly #options: StageManagerOptions;
  #requests: CoHostRequest[] = [];
  readonly #busy = new Set<StageAction>();
  #error: string | undefined;
  #unsubscribe: Array<() => void> = [];

  constructor(host: ReactiveControllerHost, options: StageManagerOptions) {
    this.#host = host;
    this.#options = options;
    host.addController(this);
  }

  /** Pending requests, oldest first. */
  get requests(): readonly CoHostRequest[] {
    return this.#requests;
  }
  /** The last refusal from the server (stage full, viewer gone…), for the person to read. */
  get error(): string | undefined {
    return this.#error;
  }
  busy(action: StageAction): boolean {
    return this.#busy.has(action);
  }

  hostConnected(): void {
    const signalling = this.#options.signalling();
    if (!signalling) return;
    this.#unsubscribe = [
      signalling.on('coHostRequested', (r) => {
        this.#requests = [...this.#requests.filter((x) => x.userId !== r.userId), r];
        this.#host.requestUpdate();
      }),
      signalling.on('coHostRequestCancelled', ({ userId }) => this.#drop(userId)),
      // answered from another window of the host
      signalling.on('coHostAccepted', ({ userId }) => this.#drop(userId)),
      signalling.on('liveEnded', () => {
        this.#requests = [];
        this.#error = undefined;
        this.#host.requestUpdate();
      }),
      signalling.on('stageChanged', (s: NotificationParams['stageChanged']) => {
        // closing co-hosting turns every pending request down
        if (!s.coHosting && this.#requests.length > 0) {
          this.#requests = [];
          this.#host.requestUpdate();
        }
      }),
    ];
  }

  hostDisconnected(): void {
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    this.#unsubscribe = [];
    this.#busy.clear();
  }

  /** The pending requests as `joinRoom` returned them. */
  setRequests(requests: readonly CoHostRequest[]): void {
    this.#requests = [...requests];
    this.#host.requestUpdate();
  }

  setCoHosting(enabled: boolean): Promise<void> {
    return this.#do('coHosting', (s) => s.request('setCoHosting', { enabled }));
  }

  accept(userId: string): Promise<void> {
    return this.#do(`accept:${userId}`, async (s) => {
      await s.request('acceptCoHost', { userId });
      this.#drop(userId);
    });
  }

  reject(userId: string): Promise<void> {
    return this.#do(`reject:${userId}`, async (s) => {
      await s.request('rejectCoHost', { userId });
      this.#drop(userId);
    });
  }

  /** Takes guest `userId` off the stage; they go back to watching. */
  remove(userId: string): Promise<void> {
    return this.#do(`remove:${userId}`, (s) => s.request('endCoHost', { userId }));
  }

  setLayout(layout: Layout): Promise<void> {
    return this.#do('layout', (s) => s.request('setLayout', { layout }));
  }

  setFaceDetection(enabled: boolean): Promise<void> {
    return this.#do('faceDetection', (s) => s.request('setFaceDetection', { enabled }));
  }

  /** Clears the shown error (the person read it). */
  dismissError(): void {
    this.#error = undefined;
    this.#host.requestUpdate();
  }

  async #do(action: StageAction, call: (s: SignallingController) => Promise<unknown>): Promise<void> {
    const signalling = this.#options.signalling();
    if (!signalling || this.#busy.has(action)) return;
    this.#busy.add(action);
    this.#error = undefined;
    this.#host.requestUpdate();
    try {
      await call(signalling);
    } catch (err) {
      this.#error = messageOf(err);
    } finally {
      this.#busy.delete(action);
      this.#host.requestUpdate();
    }
  }

  #drop(userId: string): void {
    const before = this.#requests.length;
    this.#requests = this.#requests.filter((r) => r.userId !== userId);
    if (this.#requests.length !== before) this.#host.requestUpdate();
  }
}

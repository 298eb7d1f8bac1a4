/**
 * A viewer's side of co-hosting (连麦): asking to join the stage (`requestCoHost`), withdrawing
 * (`cancelCoHostRequest`), being accepted (`coHostAccepted`) or turned down (`coHostRejected`), and
 * leaving or being taken off the stage (`endCoHost`, `coHostEnded`). The page shows the viewer's
 * stage while `state` is `guest` or `leaving`, and the live otherwise.
 *
 * ```
 *  idle ─request()─▶ asking ─▶ pending ─coHostAccepted─▶ guest ─leave()─▶ leaving ─coHostEnded─▶ idle
 *                      │          └─cancel() / coHostRejected─▶ idle        └─coHostEnded (removed, live ended)─▶ idle
 *                      └─(refused)─▶ idle, with `error`
 * ```
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { messageOf } from '../errors.js';
import type { CoHostEndReason, NotificationParams } from '../protocol.js';
import type { SignallingController } from './SignallingController.js';

export type CoHostState = 'idle' | 'asking' | 'pending' | 'cancelling' | 'guest' | 'leaving';

export interface CoHostOptions {
  signalling: () => SignallingController | undefined;
  /** The logged-in user's id: notifications about others are not ours. */
  selfId: () => string | undefined;
}

/** How a stint on stage ended, as a sentence for the one who was on it. */
function endedText(reason: CoHostEndReason): string {
  switch (reason) {
    case 'left':
      return 'You left the stage. You are watching the live again.';
    case 'removed':
      return 'The host took you off the stage. You are watching the live again.';
    case 'disconnected':
      return 'You were disconnected from the stage.';
    case 'liveEnded':
      return 'The live ended, so you are off the stage.';
  }
}

/** Owns one viewer's co-host request and guest state; forgotten when its host disconnects. */
export class CoHostController implements ReactiveController {
  readonly #host: ReactiveControllerHost;
  readonly #options: CoHostOptions;
  #state: CoHostState = 'idle';
  #notice: string | undefined;
  #error: string | undefined;
  #accepted: NotificationParams['coHostAccepted'] | undefined;
  #unsubscribe: Array<() => void> = [];

  constructor(host: ReactiveControllerHost, options: CoHostOptions) {
    this.#host = host;
    this.#options = options;
    host.addController(this);
  }

  get state(): CoHostState {
    return this.#state;
  }
  /** True while this viewer is on the stage (publishing, watching the members directly). */
  get onStage(): boolean {
    return this.#state === 'guest' || this.#state === 'leaving';
  }
  /** What happened to the last request or stint on stage ("The host declined…"). */
  get notice(): string | undefined {
    return this.#notice;
  }
  /** The last refusal from the server, for the person to read. */
  get error(): string | undefined {
    return this.#error;
  }
  /** The guest's own LiveId and LiveCode and the host's LiveId, while on stage. */
  get accepted(): NotificationParams['coHostAccepted'] | undefined {
    return this.#accepted;
  }

  hostConnected(): void {
    const signalling = this.#options.signalling();
    if (!signalling) return;
    this.#unsubscribe = [
      signalling.on('coHostAccepted', (p) => this.#onAccepted(p)),
      signalling.on('coHostRejected', (p) => this.#onRejected(p)),
      signalling.on('coHostEnded', (p) => this.#onEnded(p)),
      signalling.on('liveEnded', () => this.#onLiveEnded()),
      signalling.onClose(() => this.reset()),
    ];
  }

  hostDisconnected(): void {
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    this.#unsubscribe = [];
    this.#state = 'idle';
    this.#accepted = undefined;
  }

  /** Back to a plain viewer with nothing to tell (a new socket, another room). */
  reset(): void {
    this.#state = 'idle';
    this.#accepted = undefined;
    this.#notice = undefined;
    this.#error = undefined;
    this.#host.requestUpdate();
  }

  /** Asks the host to join the stage. Refusals end up in `error`. */
  async request(): Promise<void> {
    const signalling = this.#options.signalling();
    if (this.#state !== 'idle' || !signalling) return;
    this.#set('asking', { notice: undefined, error: undefined });
    try {
      await signalling.request('requestCoHost', {});
      if (this.#still('asking')) this.#set('pending');
    } catch (err) {
      if (this.#still('asking')) this.#set('idle', { error: messageOf(err) });
    }
  }

  /** Withdraws the request. */
  async cancel(): Promise<void> {
    const signalling = this.#options.signalling();
    if (this.#state !== 'pending' || !signalling) return;
    this.#set('cancelling', { error: undefined });
    try {
      await signalling.request('cancelCoHostRequest', {});
      if (this.#still('cancelling')) this.#set('idle');
    } catch (err) {
      // the host answered meanwhile: that answer (accepted, rejected) has the last word
      if (this.#still('cancelling')) this.#set('pending', { error: messageOf(err) });
    }
  }

  /** Leaves the stage; `coHostEnded` brings the viewer back to watching. */
  async leave(): Promise<void> {
    const signalling = this.#options.signalling();
    if (this.#state !== 'guest' || !signalling) return;
    this.#set('leaving', { error: undefined });
    try {
      await signalling.request('endCoHost', {});
    } catch (err) {
      // not on stage any more (removed meanwhile): coHostEnded says so, or said so already
      if (this.#still('leaving')) this.#set('guest', { error: messageOf(err) });
    }
  }

  #onAccepted(params: NotificationParams['coHostAccepted']): void {
    if (params.userId !== this.#options.selfId() || params.liveCode === undefined) return; // the host's copy
    this.#accepted = params;
    this.#set('guest', { notice: undefined, error: undefined });
  }

  #onRejected({ userId, reason }: NotificationParams['coHostRejected']): void {
    if (userId !== this.#options.selfId()) return;
    this.#set('idle', {
      notice:
        reason === 'closed'
          ? 'The host closed co-hosting, so your request was withdrawn.'
          : 'The host declined your request to join the stage.',
    });
  }

  #onEnded({ userId, reason }: NotificationParams['coHostEnded']): void {
    if (userId !== this.#options.selfId()) return;
    this.#accepted = undefined;
    this.#set('idle', { notice: endedText(reason) });
  }

  #onLiveEnded(): void {
    if (this.#state === 'idle') return;
    const wasOnStage = this.onStage;
    this.#accepted = undefined;
    this.#set('idle', { notice: wasOnStage ? endedText('liveEnded') : undefined });
  }

  /** Whether nothing changed the state while a request was on its way (TS narrows `#state` across awaits). */
  #still(state: CoHostState): boolean {
    return this.#state === state;
  }

  #set(state: CoHostState, texts: { notice?: string | undefined; error?: string | undefined } = {}): void {
    this.#state = state;
    if ('notice' in texts) this.#notice = texts.notice;
    if ('error' in texts) this.#error = texts.error;
    this.#host.requestUpdate();
  }
}

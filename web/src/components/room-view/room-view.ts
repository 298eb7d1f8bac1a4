import { LitElement, html, nothing, type TemplateResult } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { fetchRoom } from '../../api/api.js';
import { CoHostController } from '../../controllers/CoHostController.js';
import { SignallingController } from '../../controllers/SignallingController.js';
import { ApiError, ClientErrorCode, RpcError, messageOf } from '../../errors.js';
import {
  ErrorCode,
  type ChatMessage,
  type CoHostRequest,
  type NotificationParams,
  type Role,
  type RoomSummary,
  type StageMember,
} from '../../protocol.js';
import { href } from '../../router.js';
import type { Session } from '../../session/Session.js';
import { endReasonText, viewersText } from '../../text.js';
import '../chat-panel/chat-panel.js';
import type { ChatNotice, ChatSendDetail, TheiaChatPanel } from '../chat-panel/chat-panel.js';
import '../cohost-bar/cohost-bar.js';
import '../egress-panel/egress-panel.js';
import '../guest-stage/guest-stage.js';
import '../host-stage/host-stage.js';
import '../stage-controls/stage-controls.js';
import '../viewer-stage/viewer-stage.js';
import styles from './room-view.styles.js';

/** Chat messages kept on the page; older ones scroll away for good. */
const MAX_MESSAGES = 300;
/** Stage lines ("… joined the stage") kept on the page. */
const MAX_NOTICES = 50;

type Phase = 'joining' | 'joined' | 'failed' | 'disconnected';

/**
 * @summary One room: its title, host and viewer count, the stage (the host's camera, live and
 * co-hosting controls; the viewer's video and "Ask to join"; or, for a guest the host accepted,
 * the guest's stage) and the chat, with a line when someone joins or leaves the stage. Owns the
 * page's signalling socket: it authenticates with the session's token, joins the room, and leaves
 * by closing the socket. When the socket drops it says "Reconnecting…" (with a "Try now") and keeps
 * the stage; once a new socket is open it authenticates and joins again, and the stages pick up
 * from there (a viewer watches again, a host whose live the server kept sends its camera again).
 *
 * @csspart header - Title, host and viewer count.
 * @csspart stage - The host or viewer stage.
 * @csspart chat - The chat panel.
 */
@customElement('theia-room-view')
export class TheiaRoomView extends LitElement {
  static override styles = styles;

  @property({ attribute: 'room-id' }) roomId = '';
  @property({ attribute: false }) session: Session | undefined;

  @state() private phase: Phase = 'joining';
  @state() private error: string | undefined;
  @state() private room: RoomSummary | undefined;
  @state() private participantRole: Role = 'viewer';
  @state() private messages: ChatMessage[] = [];
  @state() private stageNotices: ChatNotice[] = [];
  /** Pending co-host requests as `joinRoom` returned them (for the host). */
  @state() private requests: readonly CoHostRequest[] = [];
  @state() private iceServers: RTCIceServer[] = [];
  @state() private endNotice: string | undefined;
  @state() private chatError: string | undefined;
  @state() private chatSending = false;
  /** False when trying again cannot help (the room does not exist). */
  @state() private retryable = true;
  /** Successful joins so far: a new one tells the viewer's stage to watch again. */
  @state() private joins = 0;
  /** `joinRoom`'s word on the live's camera, for the host's stage (a new object per join). */
  @state() private hostJoined: { publishing: boolean } | undefined;
  /** The live's host is away (`hostAway`) until `hostBack` or the live's end. */
  @state() private hostAway = false;

  @query('theia-chat-panel') private chatPanel: TheiaChatPanel | undefined;

  readonly #signalling = new SignallingController(this);
  readonly #coHost = new CoHostController(this, {
    signalling: () => this.#signalling,
    selfId: () => this.session?.user?.id,
  });
  #unsubscribe: Array<() => void> = [];
  /** Bumped by every join, so the answers of an abandoned one are ignored. */
  #joinAttempt = 0;
  #hint: { roomId: string; template: TemplateResult } | undefined;
  /** Re-renders the "next try in …" countdown while reconnecting. */
  #ticker: ReturnType<typeof setInterval> | undefined;

  override connectedCallback(): void {
    super.connectedCallback(); // opens the socket
    const s = this.#signalling;
    this.#unsubscribe = [
      s.on('liveStarted', ({ liveId }) => {
        this.#patchRoom({ live: true, liveId, mpdUrl: null, hlsUrl: null });
        this.endNotice = undefined;
        this.hostAway = false;
      }),
      s.on('liveEnded', ({ reason }) => {
        this.hostAway = false;
        this.#patchRoom({ live: false, liveId: null });
        this.endNotice = endReasonText(reason);
      }),
      s.on('viewerCountChanged', ({ viewers }) => this.#patchRoom({ viewers })),
      s.on('egressChanged', ({ mpdUrl, hlsUrl }) => this.#patchRoom({ mpdUrl, hlsUrl })),
      s.on('roomUpdated', ({ room }) => this.#patchRoom({ title: room.title })),
      s.on('stageChanged', (stage) => this.#onStageChanged(stage)),
      s.on('messageReceived', ({ message }) => this.#addMessage(message)),
      s.on('roomClosed', ({ reason }) => {
        this.#patchRoom({ live: false, liveId: null });
        this.endNotice = endReasonText(reason);
        this.#disconnected('The server closed this room. Reload the page to join again.');
      }),
      // logged out in another tab, or the login expired: the app rebuilds this page for a visitor
      s.on('sessionEnded', () => this.session?.expire()),
      s.on('hostAway', ({ roomId }) => {
        if (roomId === this.room?.id) this.hostAway = true;
      }),
      s.on('hostBack', ({ roomId }) => {
        if (roomId === this.room?.id) this.hostAway = false;
      }),
      // the server forgot this socket's login and room: the banner says so until the rejoin
      s.onClose(() => this.#joinAttempt++),
      s.onReopen(() => void this.#join()),
    ];
    void this.#join();
  }

  override disconnectedCallback(): void {
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    this.#unsubscribe = [];
    this.#joinAttempt++;
    clearInterval(this.#ticker);
    this.#ticker = undefined;
    super.disconnectedCallback(); // closes the socket: the server takes us out of the room
  }

  override updated(): void {
    const reconnecting = this.#signalling.state === 'reconnecting';
    if (reconnecting && this.#ticker === undefined) {
      this.#ticker = setInterval(() => this.requestUpdate(), 1000);
    } else if (!reconnecting && this.#ticker !== undefined) {
      clearInterval(this.#ticker);
      this.#ticker = undefined;
    }
  }

  override render(): TemplateResult {
    const room = this.room;
    return html`
      ${this.#renderBanner()}
      ${
        room
          ? html`
              <div class="head" part="header">
                <h1 data-testid="room-title">${room.title}</h1>
                ${room.live ? html`<span class="badge-live" data-testid="room-live-badge">LIVE</span>` : nothing}
                <span class="host">hosted by <strong data-testid="room-host">${room.host.name}</strong></span>
                <span class="viewers" data-testid="room-viewers">${viewersText(room.viewers)}</span>
              </div>
            `
          : this.phase === 'joining'
            ? html`<p class="muted">Joining the room…</p>`
            : nothing
      }
      ${
        room && this.phase === 'joined'
          ? html`<div class="layout">
              <div class="stage" part="stage">${this.#renderStage(room)}</div>
              <theia-chat-panel
                part="chat"
                .messages=${this.messages}
                .notices=${this.stageNotices}
                ?can-send=${this.session?.user !== undefined}
                .hint=${this.#chatHint}
                .error=${this.chatError}
                ?sending=${this.chatSending}
                .selfId=${this.session?.user?.id}
                @theia-chat-send=${this.#onChatSend}
              ></theia-chat-panel>
            </div>`
          : nothing
      }
    `;
  }

  #renderBanner(): TemplateResult | typeof nothing {
    const s = this.#signalling;
    if (s.state === 'reconnecting') {
      const waitS = s.retryAt === undefined ? 0 : Math.ceil((s.retryAt - Date.now()) / 1000);
      return html`<div class="banner reconnecting" data-testid="room-reconnecting" role="status">
        <span class="spinner" aria-hidden="true"></span>
        <p>
          <strong>Reconnecting…</strong>
          <span class="muted" data-testid="room-reconnecting-attempt"
            >${
              s.attempt === 0
                ? 'The connection to the server was lost.'
                : waitS > 0
                  ? `Attempt ${s.attempt} failed; next try in ${waitS} s.`
                  : `Attempt ${s.attempt}…`
            }</span
          >
        </p>
        <button type="button" class="secondary" data-testid="room-retry-now" @click=${() => s.retryNow()}>
          Try now
        </button>
      </div>`;
    }
    if (!this.error) return nothing;
    return html`<div class="banner">
      <p class="error" role="alert" data-testid="room-error">${this.error}</p>
      ${
        this.phase === 'disconnected' || (this.phase === 'failed' && this.retryable)
          ? html`<button type="button" class="secondary" data-testid="room-retry" @click=${this.#retry}>
              Reconnect
            </button>`
          : nothing
      }
      <a href="#/">Back to the rooms</a>
    </div>`;
  }

  #renderStage(room: RoomSummary): TemplateResult {
    if (this.participantRole === 'host') {
      return html`<theia-host-stage
          .signalling=${this.#signalling}
          .iceServers=${this.iceServers}
          ?live=${room.live}
          .guests=${this.#guests}
          .joined=${this.hostJoined}
          ?host-away=${this.hostAway}
        ></theia-host-stage>
        <theia-stage-controls
          .signalling=${this.#signalling}
          .room=${room}
          .requests=${this.requests}
        ></theia-stage-controls>
        <theia-egress-panel
          .signalling=${this.#signalling}
          room-id=${room.id}
          .token=${this.session?.token}
          ?live=${room.live}
        ></theia-egress-panel>`;
    }
    const c = this.#coHost;
    if (c.onStage) {
      // a guest watches the stage members directly: no program connection meanwhile
      const selfId = this.session?.user?.id;
      return html`<theia-guest-stage
        .signalling=${this.#signalling}
        .iceServers=${this.iceServers}
        .members=${this.#members(selfId)}
        ?leaving=${c.state === 'leaving'}
        @theia-stage-leave=${() => void c.leave()}
      ></theia-guest-stage>`;
    }
    const next = `/room/${encodeURIComponent(this.roomId)}`;
    return html`<theia-viewer-stage
        .signalling=${this.#signalling}
        .iceServers=${this.iceServers}
        .liveId=${room.live ? room.liveId : null}
        .mpdUrl=${room.live ? room.mpdUrl : null}
        .notice=${this.endNotice}
        .joins=${this.joins}
        ?host-away=${this.hostAway}
      ></theia-viewer-stage>
      <theia-cohost-bar
        .state=${c.state}
        ?open=${room.live && room.coHosting}
        ?can-ask=${this.session?.user !== undefined}
        login-href=${href({ name: 'login', next })}
        .notice=${c.notice}
        .error=${c.error}
        @theia-cohost-request=${() => void c.request()}
        @theia-cohost-cancel=${() => void c.cancel()}
      ></theia-cohost-bar>`;
  }

  /** The guests on stage; the same array until the stage changes (the host's tiles sync on it). */
  get #guests(): readonly StageMember[] {
    const stage = this.room?.stage ?? [];
    if (this.#guestsOf.stage !== stage)
      this.#guestsOf = { stage, members: stage.filter((m) => m.role === 'guest') };
    return this.#guestsOf.members;
  }
  #guestsOf: { stage: readonly StageMember[]; members: readonly StageMember[] } = { stage: [], members: [] };

  /** Everyone on stage but `selfId`, the host first; the same array until the stage changes. */
  #members(selfId: string | undefined): readonly StageMember[] {
    const stage = this.room?.stage ?? [];
    if (this.#membersOf.stage !== stage || this.#membersOf.selfId !== selfId)
      this.#membersOf = { stage, selfId, members: stage.filter((m) => m.userId !== selfId) };
    return this.#membersOf.members;
  }
  #membersOf: { stage: readonly StageMember[]; selfId: string | undefined; members: readonly StageMember[] } =
    {
      stage: [],
      selfId: undefined,
      members: [],
    };

  /** Takes the new stage, and tells the chat who came on or went off it. */
  #onStageChanged({
    roomId,
    coHosting,
    stage,
    layout,
    faceDetection,
  }: NotificationParams['stageChanged']): void {
    const room = this.room;
    if (!room || roomId !== room.id) return;
    // an empty stage means the live ended, which the page says already
    if (stage.length > 0) {
      const before = new Map(room.stage.filter((m) => m.role === 'guest').map((m) => [m.userId, m]));
      const after = new Map(stage.filter((m) => m.role === 'guest').map((m) => [m.userId, m]));
      const lines: string[] = [];
      for (const [id, m] of before) if (!after.has(id)) lines.push(`${m.name} left the stage`);
      for (const [id, m] of after) if (!before.has(id)) lines.push(`${m.name} joined the stage`);
      if (lines.length > 0) {
        const at = Date.now();
        this.stageNotices = [
          ...this.stageNotices,
          ...lines.map((text, i) => ({ id: `${at}-${i}-${this.#noticeSeq++}`, text, at })),
        ].slice(-MAX_NOTICES);
      }
    }
    this.#patchRoom({ coHosting, stage, layout, faceDetection });
  }
  #noticeSeq = 0;

  /** The chat's hint for visitors, made once per room: a new template each render would re-render the chat. */
  get #chatHint(): TemplateResult {
    if (this.#hint?.roomId !== this.roomId) {
      const next = `/room/${encodeURIComponent(this.roomId)}`;
      this.#hint = {
        roomId: this.roomId,
        template: html`<a href=${href({ name: 'login', next })}>Log in</a> to chat, or
          <a href=${href({ name: 'signup', next })}>sign up</a>.`,
      };
    }
    return this.#hint.template;
  }

  async #join(): Promise<void> {
    const attempt = ++this.#joinAttempt;
    const s = this.#signalling;
    // joining again after the socket came back keeps the stage (the host's camera, the video)
    const rejoin = this.phase === 'joined';
    if (!rejoin) this.phase = 'joining';
    this.error = undefined;
    try {
      if (rejoin) {
        await s.opened;
      } else {
        const [info] = await Promise.all([fetchRoom(this.roomId), s.opened]);
        if (attempt !== this.#joinAttempt) return;
        this.iceServers = info.iceServers;
      }
      if (attempt !== this.#joinAttempt) return;
      const token = this.session?.token;
      if (token) {
        try {
          await s.request('authenticate', { token });
        } catch (err) {
          if (err instanceof RpcError && err.code === (ErrorCode.Unauthenticated as number)) {
            // the app rebuilds this page for the anonymous visitor once the session forgets the token
            this.session?.expire();
            return;
          }
          throw err;
        }
      }
      const joined = await s.request('joinRoom', { roomId: this.roomId });
      if (attempt !== this.#joinAttempt) return;
      this.room = joined.room;
      this.participantRole = joined.role;
      this.messages = joined.messages.slice(-MAX_MESSAGES);
      this.requests = joined.requests;
      this.stageNotices = [];
      this.#coHost.reset();
      this.hostAway = false;
      this.hostJoined = { publishing: joined.publishing };
      this.joins++;
      this.phase = 'joined';
    } catch (err) {
      if (attempt !== this.#joinAttempt) return;
      // the socket dropped again meanwhile: the next reopen joins again
      if (
        err instanceof RpcError &&
        err.code === (ClientErrorCode.Network as number) &&
        s.state === 'reconnecting'
      )
        return;
      this.phase = 'failed';
      this.error = messageOf(err);
      this.retryable = !(err instanceof ApiError && err.status === 404);
    }
  }

  readonly #retry = (): void => {
    this.#signalling.connect();
    void this.#join();
  };

  #disconnected(reason: string): void {
    if (this.phase === 'failed') return; // #join reports its own failure
    this.#joinAttempt++;
    this.phase = 'disconnected';
    this.error = reason;
  }

  #patchRoom(patch: Partial<RoomSummary>): void {
    if (this.room) this.room = { ...this.room, ...patch };
  }

  #addMessage(message: ChatMessage): void {
    if (this.messages.some((m) => m.id === message.id)) return;
    this.messages = [...this.messages, message].slice(-MAX_MESSAGES);
  }

  readonly #onChatSend = (event: CustomEvent<ChatSendDetail>): void => {
    void this.#sendMessage(event.detail.text);
  };

  async #sendMessage(text: string): Promise<void> {
    this.chatSending = true;
    this.chatError = undefined;
    try {
      const { message } = await this.#signalling.request('sendMessage', { text });
      this.#addMessage(message);
      this.chatSending = false;
      await this.updateComplete;
      this.chatPanel?.clearDraft();
    } catch (err) {
      this.chatError = messageOf(err);
    } finally {
      this.chatSending = false;
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'theia-room-view': TheiaRoomView;
  }
}

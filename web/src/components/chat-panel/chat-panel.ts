import { LitElement, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import { Limits, type ChatMessage } from '../../protocol.js';
import { timeText } from '../../text.js';
import styles from './chat-panel.styles.js';

/** A line from the room itself among the messages ("alice joined the stage"). */
export interface ChatNotice {
  id: string;
  text: string;
  /** ms since the Unix epoch (the page's clock) */
  at: number;
}

type Entry =
  { kind: 'message'; at: number; message: ChatMessage } | { kind: 'notice'; at: number; notice: ChatNotice };

/** Detail of `theia-chat-send`. */
export interface ChatSendDetail {
  text: string;
}

/**
 * @summary A room's chat: the messages, oldest first, with the room's own lines among them
 * ("alice joined the stage"), and a send box. The element only shows
 * things; its owner sends the message and reports back through `error` and `clearDraft()`.
 *
 * @fires theia-chat-send - The person sent a message; `detail` is a ChatSendDetail.
 *
 * @csspart log - The list of messages.
 * @csspart form - The send box.
 * @csspart hint - Why sending is disabled (e.g. "Log in to chat").
 * @csspart error - The last error from the server (e.g. sending too fast).
 */
@customElement('theia-chat-panel')
export class TheiaChatPanel extends LitElement {
  static override styles = styles;

  @property({ attribute: false }) messages: ChatMessage[] = [];
  /** The room's own lines, shown among the messages by time. */
  @property({ attribute: false }) notices: ChatNotice[] = [];
  /** Whether this person may send (logged in and in the room). */
  @property({ type: Boolean, attribute: 'can-send' }) canSend = false;
  /** Shown instead of sending when `canSend` is false; may contain a link. */
  @property({ attribute: false }) hint: TemplateResult | string | undefined;
  @property() error: string | undefined;
  /** True while a message is on its way: the box waits. */
  @property({ type: Boolean }) sending = false;
  /** The reader's user id, to mark their own messages. */
  @property({ attribute: 'self-id' }) selfId: string | undefined;

  @state() private draft = '';

  @query('ol') private log!: HTMLOListElement;
  @query('input') private input!: HTMLInputElement;

  #stickToBottom = true;

  /** Empties the box after the message was sent, and puts the focus back in it. */
  clearDraft(): void {
    this.draft = '';
    this.input.value = '';
    this.input.focus();
  }

  override willUpdate(changed: PropertyValues<this>): void {
    if ((changed.has('messages') || changed.has('notices')) && this.log) {
      // follow new messages only when the reader is at the bottom already
      const { scrollTop, scrollHeight, clientHeight } = this.log;
      this.#stickToBottom = scrollHeight - scrollTop - clientHeight < 40;
    }
  }

  override updated(changed: PropertyValues<this>): void {
    if ((changed.has('messages') || changed.has('notices')) && this.#stickToBottom)
      this.log.scrollTop = this.log.scrollHeight;
  }

  override render(): TemplateResult {
    const disabled = !this.canSend || this.sending;
    return html`
      <h2>Chat</h2>
      <ol part="log" data-testid="chat-log" aria-live="polite">
        ${
          this.messages.length === 0 && this.notices.length === 0
            ? html`<li class="empty">No messages yet.</li>`
            : nothing
        }
        ${repeat(
          this.#entries(),
          (e) => (e.kind === 'message' ? e.message.id : `notice:${e.notice.id}`),
          (e) => (e.kind === 'message' ? this.#renderMessage(e.message) : this.#renderNotice(e.notice)),
        )}
      </ol>
      <form part="form" @submit=${this.#onSubmit}>
        <input
          data-testid="chat-input"
          aria-label="Message"
          placeholder=${this.canSend ? 'Say something…' : 'Log in to chat'}
          maxlength=${Limits.maxChatChars}
          autocomplete="off"
          .value=${this.draft}
          ?disabled=${disabled}
          @input=${this.#onInput}
        />
        <button type="submit" data-testid="chat-send" ?disabled=${disabled || this.draft.trim() === ''}>
          Send
        </button>
      </form>
      <div class="footer">${this.#renderFooter()}</div>
    `;
  }

  /** Messages and notices, oldest first (a notice after the messages of the same moment). */
  #entries(): Entry[] {
    const entries: Entry[] = this.messages.map((message) => ({
      kind: 'message',
      at: message.sentAt,
      message,
    }));
    if (this.notices.length === 0) return entries;
    for (const notice of this.notices) entries.push({ kind: 'notice', at: notice.at, notice });
    return entries.sort((a, b) => a.at - b.at); // stable: equal times keep their order
  }

  #renderMessage(m: ChatMessage): TemplateResult {
    return html`<li data-testid="chat-message">
      <span class="who ${m.user.id === this.selfId ? 'self' : ''}">${m.user.name}</span
      ><span class="text">${m.text}</span
      ><time datetime=${new Date(m.sentAt).toISOString()}>${timeText(m)}</time>
    </li>`;
  }

  #renderNotice(n: ChatNotice): TemplateResult {
    return html`<li class="notice" data-testid="stage-notice">${n.text}</li>`;
  }

  #renderFooter(): TemplateResult | typeof nothing {
    if (this.error)
      return html`<p class="error" part="error" role="alert" data-testid="chat-error">${this.error}</p>`;
    if (!this.canSend && this.hint)
      return html`<span class="muted" part="hint" data-testid="chat-hint">${this.hint}</span>`;
    return nothing;
  }

  readonly #onInput = (event: InputEvent): void => {
    this.draft = (event.target as HTMLInputElement).value;
  };

  readonly #onSubmit = (event: SubmitEvent): void => {
    event.preventDefault();
    const text = this.draft.trim();
    if (!text || !this.canSend || this.sending) return;
    this.dispatchEvent(
      new CustomEvent<ChatSendDetail>('theia-chat-send', { detail: { text }, bubbles: true, composed: true }),
    );
  };
}

declare global {
  interface HTMLElementTagNameMap {
    'theia-chat-panel': TheiaChatPanel;
  }
  interface HTMLElementEventMap {
    'theia-chat-send': CustomEvent<ChatSendDetail>;
  }
}

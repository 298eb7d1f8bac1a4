import { LitElement, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import { Limits, type ChatMessage } from '../../protocol.js';
import { timeText } from '../../text.js';
import styles from './chat-panel.styles.js';

/** Detail of `theia-chat-send`. */
export interface ChatSendDetail {
  text: string;
}

/**
 * @summary A room's chat: the messages, oldest first, and a send box. The element only shows
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
    if (changed.has('messages') && this.log) {
      // follow new messages only when the reader is at the bottom already
      const { scrollTop, scrollHeight, clientHeight } = this.log;
      this.#stickToBottom = scrollHeight - scrollTop - clientHeight < 40;
    }
  }

  override updated(changed: PropertyValues<this>): void {
    if (changed.has('messages') && this.#stickToBottom) this.log.scrollTop = this.log.scrollHeight;
  }

  override render(): TemplateResult {
    const disabled = !this.canSend || this.sending;
    return html`
      <h2>Chat</h2>
      <ol part="log" data-testid="chat-log" aria-live="polite">
        ${this.messages.length === 0 ? html`<li class="empty">No messages yet.</li>` : nothing}
        ${repeat(
          this.messages,
          (m) => m.id,
          (m) =>
            html`<li data-testid="chat-message">
              <span class="who ${m.user.id === this.selfId ? 'self' : ''}">${m.user.name}</span
              ><span class="text">${m.text}</span
              ><time datetime=${new Date(m.sentAt).toISOString()}>${timeText(m)}</time>
            </li>`,
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

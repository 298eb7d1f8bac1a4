import { LitElement, html, nothing, type TemplateResult } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { CoHostState } from '../../controllers/CoHostController.js';
import styles from './cohost-bar.styles.js';

/**
 * @summary A viewer's way onto the stage (连麦): "Ask to join" while the host has co-hosting open
 * and the room is live (a link to log in for visitors), "Waiting for the host…" with Cancel while
 * the request is pending, and what became of the last request or stint on stage. The element only
 * shows things; its owner makes the requests.
 *
 * @fires theia-cohost-request - The viewer asks to join the stage.
 * @fires theia-cohost-cancel - The viewer withdraws the request.
 *
 * @csspart bar - The line with the text and the button.
 * @csspart notice - What became of the last request ("The host declined…").
 * @csspart error - The server's refusal.
 */
@customElement('theia-cohost-bar')
export class TheiaCoHostBar extends LitElement {
  static override styles = styles;

  @property() state: CoHostState = 'idle';
  /** Whether the host takes requests now (co-hosting open and the room live). */
  @property({ type: Boolean }) open = false;
  /** Whether this person is logged in (visitors cannot ask). */
  @property({ type: Boolean, attribute: 'can-ask' }) canAsk = false;
  /** Where visitors log in (coming back to this room). */
  @property({ attribute: 'login-href' }) loginHref = '#/login';
  @property() notice: string | undefined;
  @property() error: string | undefined;

  override render(): TemplateResult {
    return html`
      ${this.#renderBar()}
      ${
        this.notice
          ? html`<p class="notice" part="notice" role="status" data-testid="cohost-notice">${this.notice}</p>`
          : nothing
      }
      ${
        this.error
          ? html`<p class="error" part="error" role="alert" data-testid="cohost-error">${this.error}</p>`
          : nothing
      }
    `;
  }

  #renderBar(): TemplateResult | typeof nothing {
    const pending = this.state === 'pending' || this.state === 'cancelling';
    if (!this.open && !pending) return nothing;
    if (!this.canAsk) {
      return html`<div class="bar" part="bar">
        <span class="text" data-testid="cohost-login-hint"
          >The host invites viewers on stage.
          <a href=${this.loginHref} data-testid="cohost-login">Log in</a> to ask to join.</span
        >
      </div>`;
    }
    if (pending) {
      return html`<div class="bar pending" part="bar">
        <span class="text" role="status" data-testid="cohost-pending">Waiting for the host to answer…</span>
        <button
          type="button"
          class="secondary"
          data-testid="cohost-cancel"
          ?disabled=${this.state === 'cancelling'}
          @click=${() => this.#fire('theia-cohost-cancel')}
        >
          Cancel request
        </button>
      </div>`;
    }
    return html`<div class="bar" part="bar">
      <span class="text">The host invites viewers on stage.</span>
      <button
        type="button"
        data-testid="cohost-request"
        ?disabled=${this.state !== 'idle'}
        @click=${() => this.#fire('theia-cohost-request')}
      >
        ${this.state === 'asking' ? 'Asking…' : 'Ask to join'}
      </button>
    </div>`;
  }

  #fire(name: 'theia-cohost-request' | 'theia-cohost-cancel'): void {
    this.dispatchEvent(new CustomEvent(name, { bubbles: true, composed: true }));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'theia-cohost-bar': TheiaCoHostBar;
  }
  interface HTMLElementEventMap {
    'theia-cohost-request': CustomEvent<undefined>;
    'theia-cohost-cancel': CustomEvent<undefined>;
  }
}

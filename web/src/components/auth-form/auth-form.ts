import { LitElement, html, nothing, type TemplateResult } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { messageOf } from '../../errors.js';
import type { Session } from '../../session/Session.js';
import styles from './auth-form.styles.js';

/**
 * @summary The log-in or sign-up form. Shows the server's message (name taken, wrong password,
 * too short…) under the form.
 *
 * @fires theia-authenticated - The session is logged in.
 *
 * @csspart form - The form.
 * @csspart error - The error message.
 */
@customElement('theia-auth-form')
export class TheiaAuthForm extends LitElement {
  static override styles = styles;

  /** `signup` creates an account (and its room) and logs in. */
  @property() mode: 'login' | 'signup' = 'login';
  @property({ attribute: false }) session: Session | undefined;

  @state() private busy = false;
  @state() private error: string | undefined;

  @query('input[name="name"]') private nameInput!: HTMLInputElement;
  @query('input[name="password"]') private passwordInput!: HTMLInputElement;

  override willUpdate(changed: Map<PropertyKey, unknown>): void {
    if (changed.has('mode')) this.error = undefined;
  }

  override render(): TemplateResult {
    const signup = this.mode === 'signup';
    return html`
      <form part="form" @submit=${this.#onSubmit} novalidate>
        <h1>${signup ? 'Create your account' : 'Log in'}</h1>
        <label>
          Name
          <input
            name="name"
            autocomplete="username"
            required
            data-testid="auth-name"
            ?disabled=${this.busy}
            @input=${this.#clearError}
          />
          ${signup ? html`<span class="hint">3–32 letters, digits, _ or -</span>` : nothing}
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autocomplete=${signup ? 'new-password' : 'current-password'}
            required
            data-testid="auth-password"
            ?disabled=${this.busy}
            @input=${this.#clearError}
          />
          ${signup ? html`<span class="hint">At least 8 characters</span>` : nothing}
        </label>
        ${
          this.error
            ? html`<p class="error" part="error" role="alert" data-testid="auth-error">${this.error}</p>`
            : nothing
        }
        <button type="submit" data-testid="auth-submit" ?disabled=${this.busy}>
          ${this.busy ? (signup ? 'Creating…' : 'Logging in…') : signup ? 'Sign up' : 'Log in'}
        </button>
        <p class="switch muted">
          ${
            signup
              ? html`Have an account? <a href="#/login">Log in</a>`
              : html`New here? <a href="#/signup">Create an account</a>`
          }
        </p>
      </form>
    `;
  }

  readonly #clearError = (): void => {
    this.error = undefined;
  };

  readonly #onSubmit = (event: SubmitEvent): void => {
    event.preventDefault();
    void this.#submit();
  };

  async #submit(): Promise<void> {
    const session = this.session;
    if (!session || this.busy) return;
    const name = this.nameInput.value.trim();
    const password = this.passwordInput.value;
    if (!name || !password) {
      this.error = 'Enter a name and a password.';
      return;
    }
    this.busy = true;
    this.error = undefined;
    try {
      if (this.mode === 'signup') await session.signUp(name, password);
      else await session.logIn(name, password);
      this.dispatchEvent(new Event('theia-authenticated', { bubbles: true, composed: true }));
    } catch (err) {
      this.error = messageOf(err);
    } finally {
      this.busy = false;
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'theia-auth-form': TheiaAuthForm;
  }
}

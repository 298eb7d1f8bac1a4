import { LitElement, html, nothing, type TemplateResult } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { keyed } from 'lit/directives/keyed.js';
import { messageOf } from '../../errors.js';
import { afterLogin, href, parseRoute, type Route } from '../../router.js';
import { Session } from '../../session/Session.js';
import '../auth-form/auth-form.js';
import '../room-list/room-list.js';
import '../room-view/room-view.js';
import styles from './app.styles.js';

/**
 * @summary The application shell: header with the app name and navigation, and the page the
 * location hash names (room list, log in, sign up, a room).
 *
 * @csspart header - The top bar.
 * @csspart nav - The navigation links.
 * @csspart main - The area that holds the current page.
 */
@customElement('theia-app')
export class TheiaApp extends LitElement {
  static override styles = styles;

  @state() private route: Route = parseRoute(location.hash);
  @state() private sessionError: string | undefined;

  readonly #session = new Session();

  readonly #onHashChange = (): void => {
    this.route = parseRoute(location.hash);
  };
  readonly #onSessionChange = (): void => {
    this.requestUpdate();
  };

  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener('hashchange', this.#onHashChange);
    this.#session.addEventListener('change', this.#onSessionChange);
    this.#session.restore().catch((err: unknown) => {
      this.sessionError = `Could not check your login: ${messageOf(err)}`;
    });
  }

  override disconnectedCallback(): void {
    window.removeEventListener('hashchange', this.#onHashChange);
    this.#session.removeEventListener('change', this.#onSessionChange);
    super.disconnectedCallback();
  }

  override render(): TemplateResult {
    return html`
      <header part="header">
        <a class="brand" href="#/">Theia</a>
        <nav part="nav" aria-label="Main">
          <a href="#/" data-testid="nav-rooms" aria-current=${this.route.name === 'rooms' ? 'page' : nothing}
            >Rooms</a
          >
          <span class="spacer"></span>
          ${this.#renderAccount()}
        </nav>
      </header>
      <main part="main">
        ${this.sessionError ? html`<p class="error" role="alert">${this.sessionError}</p>` : nothing}
        ${this.#renderPage()}
      </main>
    `;
  }

  #renderAccount(): TemplateResult {
    const session = this.#session;
    const user = session.user;
    if (!session.restored) return html`<span class="muted">…</span>`;
    if (!user) {
      return html`
        <a
          href="#/login"
          data-testid="nav-login"
          aria-current=${this.route.name === 'login' ? 'page' : nothing}
          >Log in</a
        >
        <a href="#/signup" class="cta" data-testid="nav-signup">Sign up</a>
      `;
    }
    const myRoom = session.roomId;
    const inMyRoom = this.route.name === 'room' && this.route.roomId === myRoom;
    return html`
      <span class="user" data-testid="nav-user">${user.name}</span>
      <span class="dot" aria-hidden="true">·</span>
      ${
        myRoom
          ? html`<a
              href=${href({ name: 'room', roomId: myRoom })}
              data-testid="nav-my-room"
              aria-current=${inMyRoom ? 'page' : nothing}
              >My room</a
            >`
          : nothing
      }
      <span class="dot" aria-hidden="true">·</span>
      <button type="button" data-testid="nav-logout" @click=${this.#logOut}>Log out</button>
    `;
  }

  #renderPage(): unknown {
    const route = this.route;
    const session = this.#session;
    switch (route.name) {
      case 'rooms':
        return html`<theia-room-list></theia-room-list>`;
      case 'login':
      case 'signup':
        if (session.user) {
          return html`<p class="notice">
            You are logged in as <strong>${session.user.name}</strong>. <a href="#/">See the rooms</a>.
          </p>`;
        }
        return html`<theia-auth-form
          mode=${route.name}
          .session=${session}
          @theia-authenticated=${() => this.#navigate(afterLogin(route.next))}
        ></theia-auth-form>`;
      case 'room':
        // a new login is a new signalling identity: rebuild the room page (and its socket)
        return keyed(
          `${route.roomId}\n${session.token ?? ''}`,
          html`<theia-room-view room-id=${route.roomId} .session=${session}></theia-room-view>`,
        );
      case 'notFound':
        return html`<p class="notice">There is no page here. <a href="#/">See the rooms</a>.</p>`;
    }
  }

  readonly #logOut = (): void => {
    void this.#session.logOut();
  };

  #navigate(hash: string): void {
    if (location.hash === hash) this.route = parseRoute(hash);
    else location.hash = hash;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'theia-app': TheiaApp;
  }
}

import { LitElement, html, nothing, type TemplateResult } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import { fetchRooms } from '../../api/api.js';
import { messageOf } from '../../errors.js';
import type { RoomSummary } from '../../protocol.js';
import { href } from '../../router.js';
import { viewersText } from '../../text.js';
import styles from './room-list.styles.js';

/**
 * @summary Every room, live ones first: title, host, a LIVE badge and the viewer count. Refreshes
 * every `refreshMs` while the page is visible, and when the window gets the focus back.
 *
 * @csspart card - One room's link.
 * @csspart live-badge - The LIVE badge of a live room.
 */
@customElement('theia-room-list')
export class TheiaRoomList extends LitElement {
  static override styles = styles;

  /** How often the list is fetched again, ms. */
  @property({ type: Number, attribute: 'refresh-ms' }) refreshMs = 5_000;

  @state() private rooms: RoomSummary[] | undefined;
  @state() private error: string | undefined;

  #timer: ReturnType<typeof setInterval> | undefined;
  #abort: AbortController | undefined;

  readonly #onVisible = (): void => {
    if (document.visibilityState === 'visible') void this.refresh();
  };
  readonly #onFocus = (): void => {
    void this.refresh();
  };

  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener('focus', this.#onFocus);
    document.addEventListener('visibilitychange', this.#onVisible);
    this.#timer = setInterval(() => {
      if (document.visibilityState === 'visible') void this.refresh();
    }, this.refreshMs);
    void this.refresh();
  }

  override disconnectedCallback(): void {
    window.removeEventListener('focus', this.#onFocus);
    document.removeEventListener('visibilitychange', this.#onVisible);
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#abort?.abort();
    this.#abort = undefined;
    super.disconnectedCallback();
  }

  /** Fetches the list now (a fetch still under way is abandoned). */
  async refresh(): Promise<void> {
    this.#abort?.abort();
    const abort = new AbortController();
    this.#abort = abort;
    try {
      this.rooms = await fetchRooms(abort.signal);
      this.error = undefined;
    } catch (err) {
      if (abort.signal.aborted) return;
      this.error = `Could not load the rooms: ${messageOf(err)}`;
    }
  }

  override render(): TemplateResult {
    return html`
      <div class="top">
        <h1>Rooms</h1>
        ${
          this.rooms
            ? html`<span class="muted" data-testid="rooms-live-count"
                >${this.rooms.filter((r) => r.live).length} live now</span
              >`
            : nothing
        }
      </div>
      ${this.error ? html`<p class="error" role="alert" data-testid="rooms-error">${this.error}</p>` : nothing}
      ${this.#renderRooms()}
    `;
  }

  #renderRooms(): TemplateResult {
    if (!this.rooms) return html`<p class="muted">Loading rooms…</p>`;
    if (this.rooms.length === 0) {
      return html`<div class="empty">
        <p><strong>No rooms yet.</strong></p>
        <p class="muted">
          Every account comes with a room. <a href="#/signup">Sign up</a> to get yours and go live.
        </p>
      </div>`;
    }
    return html`<ul>
      ${repeat(
        this.rooms,
        (room) => room.id,
        (room) =>
          html`<li>
            <a
              class="card ${room.live ? 'live' : ''}"
              part="card"
              href=${href({ name: 'room', roomId: room.id })}
              data-testid="room-card"
              data-room-id=${room.id}
            >
              <span class="title" data-testid="room-title">${room.title}</span>
              <span class="meta">
                <span>by <span data-testid="room-host">${room.host.name}</span></span>
                ${
                  room.live
                    ? html`<span>
                        <span data-testid="room-viewers">${viewersText(room.viewers)}</span>
                        <span class="badge-live" part="live-badge" data-testid="room-live-badge">LIVE</span>
                      </span>`
                    : html`<span class="offline">offline</span>`
                }
              </span>
            </a>
          </li>`,
      )}
    </ul>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'theia-room-list': TheiaRoomList;
  }
}

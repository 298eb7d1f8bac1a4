import { LitElement, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { live } from 'lit/directives/live.js';
import { repeat } from 'lit/directives/repeat.js';
import type { SignallingController } from '../../controllers/SignallingController.js';
import { StageManagerController } from '../../controllers/StageManagerController.js';
import type { CoHostRequest, Layout, RoomSummary } from '../../protocol.js';
import { layoutText } from '../../text.js';
import styles from './stage-controls.styles.js';

/** The layouts the host can pick, in the picker's order. */
const LAYOUTS: Layout[] = ['pip', 'grid'];

/**
 * @summary The host's co-hosting panel (连麦): the switch that opens the stage to requests, the
 * pending requests with Accept / Reject, the guests on stage with Remove, how viewers see the
 * stage mixed (picture-in-picture or side by side), and face detection. Settings show what the
 * server says (`stageChanged`); while a change is on its way its control waits; refusals are shown
 * in words.
 *
 * @csspart requests - The list of pending requests.
 * @csspart guests - The list of guests on stage.
 * @csspart error - The last refusal.
 */
@customElement('theia-stage-controls')
export class TheiaStageControls extends LitElement {
  static override styles = styles;

  /** The room page's signalling socket; set before the element is connected. */
  @property({ attribute: false }) signalling: SignallingController | undefined;
  /** The room as the server last told it (co-hosting, stage, layout, face detection, live). */
  @property({ attribute: false }) room: RoomSummary | undefined;
  /** Pending requests as `joinRoom` returned them; later ones arrive as notifications. */
  @property({ attribute: false }) requests: readonly CoHostRequest[] = [];

  readonly #manager = new StageManagerController(this, { signalling: () => this.signalling });

  override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('requests')) this.#manager.setRequests(this.requests);
  }

  override render(): TemplateResult | typeof nothing {
    const room = this.room;
    if (!room) return nothing;
    const m = this.#manager;
    return html`
      <div class="head">
        <h2>Co-hosting</h2>
        <label class="switch">
          <input
            type="checkbox"
            role="switch"
            data-testid="cohost-toggle"
            .checked=${live(room.coHosting)}
            ?disabled=${m.busy('coHosting')}
            @change=${(e: Event) => void m.setCoHosting((e.target as HTMLInputElement).checked)}
          />
          <span class="state" data-testid="cohost-state"
            >${room.coHosting ? 'Open to requests' : 'Closed to requests'}</span
          >
        </label>
      </div>
      ${
        room.live
          ? nothing
          : html`<p class="hint muted" data-testid="cohost-hint">
              ${
                room.coHosting
                  ? 'Viewers can ask to join the stage once you are live.'
                  : 'Open co-hosting to let logged-in viewers ask to join you on stage.'
              }
            </p>`
      }
      ${room.live ? this.#renderRequests() : nothing} ${room.live ? this.#renderGuests(room) : nothing}
      <h3>Mix for viewers</h3>
      <div class="settings">
        <div class="segmented" role="group" aria-label="Layout">
          ${LAYOUTS.map(
            (layout) =>
              html`<button
                type="button"
                data-testid="layout-${layout}"
                aria-pressed=${room.layout === layout ? 'true' : 'false'}
                ?disabled=${m.busy('layout')}
                @click=${() => {
                  if (room.layout !== layout) void m.setLayout(layout);
                }}
              >
                ${layoutText(layout)}
              </button>`,
          )}
        </div>
        <span class="muted" data-testid="layout-state"
          >${
            room.stage.some((m) => m.role === 'guest')
              ? `Viewers see: ${layoutText(room.layout)}`
              : 'Used while a guest is on stage'
          }</span
        >
        <label class="switch">
          <input
            type="checkbox"
            role="switch"
            data-testid="face-detection-toggle"
            .checked=${live(room.faceDetection)}
            ?disabled=${m.busy('faceDetection')}
            @change=${(e: Event) => void m.setFaceDetection((e.target as HTMLInputElement).checked)}
          />
          Face detection
          <span class="state" data-testid="face-detection-state">${room.faceDetection ? 'On' : 'Off'}</span>
        </label>
      </div>
      ${
        m.error
          ? html`<p class="error" part="error" role="alert">
              <span data-testid="stage-error">${m.error}</span>
              <button type="button" class="secondary" aria-label="Dismiss" @click=${() => m.dismissError()}>
                OK
              </button>
            </p>`
          : nothing
      }
    `;
  }

  #renderRequests(): TemplateResult {
    const m = this.#manager;
    const n = m.requests.length;
    return html`
      <h3>
        Requests
        <span
          class="count ${n === 0 ? 'zero' : ''}"
          data-testid="cohost-request-count"
          aria-label="${n} waiting"
          >${n}</span
        >
      </h3>
      <ul part="requests" data-testid="cohost-requests">
        ${
          n === 0
            ? html`<li class="empty">
                ${this.room?.coHosting ? 'No one is asking to join.' : 'Co-hosting is closed.'}
              </li>`
            : repeat(
                m.requests,
                (r) => r.userId,
                (r) =>
                  html`<li data-testid="cohost-request-item">
                    <span class="name">${r.name}</span>
                    <span class="since"
                      >asked at
                      ${new Date(r.requestedAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}</span
                    >
                    <span class="actions">
                      <button
                        type="button"
                        data-testid="cohost-accept-${r.name}"
                        ?disabled=${m.busy(`accept:${r.userId}`) || m.busy(`reject:${r.userId}`)}
                        @click=${() => void m.accept(r.userId)}
                      >
                        Accept
                      </button>
                      <button
                        type="button"
                        class="secondary"
                        data-testid="cohost-reject-${r.name}"
                        ?disabled=${m.busy(`accept:${r.userId}`) || m.busy(`reject:${r.userId}`)}
                        @click=${() => void m.reject(r.userId)}
                      >
                        Reject
                      </button>
                    </span>
                  </li>`,
              )
        }
      </ul>
    `;
  }

  #renderGuests(room: RoomSummary): TemplateResult {
    const m = this.#manager;
    const guests = room.stage.filter((s) => s.role === 'guest');
    return html`
      <h3>On stage</h3>
      <ul part="guests" data-testid="stage-members">
        ${
          guests.length === 0
            ? html`<li class="empty">Only you. Accept a request to bring a guest on stage.</li>`
            : repeat(
                guests,
                (g) => g.userId,
                (g) =>
                  html`<li data-testid="stage-member">
                    <span class="name">${g.name}</span>
                    <span class="actions">
                      <button
                        type="button"
                        class="danger"
                        data-testid="cohost-remove-${g.name}"
                        ?disabled=${m.busy(`remove:${g.userId}`)}
                        @click=${() => void m.remove(g.userId)}
                      >
                        Remove
                      </button>
                    </span>
                  </li>`,
              )
        }
      </ul>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'theia-stage-controls': TheiaStageControls;
  }
}

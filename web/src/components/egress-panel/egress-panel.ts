import { LitElement, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { fetchDestinations, saveDestinations, type DestinationView } from '../../api/api.js';
import { EgressStatusController } from '../../controllers/EgressStatusController.js';
import type { SignallingController } from '../../controllers/SignallingController.js';
import { messageOf } from '../../errors.js';
import type { DashStatus, DestinationState } from '../../protocol.js';
import styles from './egress-panel.styles.js';

/** One row of the destinations form. */
interface Row {
  id?: string;
  url: string;
  key: string;
  keyHint?: string;
}

const DASH_TEXT: Record<DashStatus, string> = {
  starting: 'starting…',
  ready: 'ready',
  retrying: 'restarting…',
  failed: 'failed',
  closed: 'stopped',
};

const DESTINATION_TEXT: Record<DestinationState, string> = {
  connecting: 'connecting…',
  live: 'live',
  retrying: 'retrying',
  failed: 'failed',
  closed: 'stopped',
};

/**
 * @summary The host's egress panel: whether the live's DASH/HLS is ready, each RTMP
 * destination's state (connecting / live / retrying / failed, with the reason), and a form to set
 * the room's RTMP destinations (server URL + stream key, at most 3; keys are write-only: the
 * server shows only their last characters). Changes apply from the next live.
 *
 * @csspart status - The live egress states.
 * @csspart form - The destinations form.
 */
@customElement('theia-egress-panel')
export class TheiaEgressPanel extends LitElement {
  static override styles = styles;

  @property({ attribute: false }) signalling: SignallingController | undefined;
  @property({ attribute: 'room-id' }) roomId = '';
  /** The host's session token, for the destinations API. */
  @property({ attribute: false }) token: string | undefined;
  @property({ type: Boolean }) live = false;

  @state() private rows: Row[] = [];
  @state() private max = 3;
  @state() private saving = false;
  @state() private saved = false;
  @state() private error: string | undefined;

  readonly #status = new EgressStatusController(this, () => this.signalling);
  #loaded: string | undefined;

  override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('live') && !this.live) this.#status.reset();
    const key = `${this.roomId}|${this.token ?? ''}`;
    if (this.roomId && this.token && this.#loaded !== key) {
      this.#loaded = key;
      void this.#load();
    }
  }

  async #load(): Promise<void> {
    try {
      const { destinations, max } = await fetchDestinations(this.roomId, this.token!);
      this.rows = destinations.map(toRow);
      this.max = max;
    } catch (err) {
      this.error = messageOf(err);
    }
  }

  override render(): TemplateResult {
    return html`<section part="status" data-testid="egress-panel">
        <h2>Outputs</h2>
        ${this.#renderStatus()}
      </section>
      <form part="form" @submit=${this.#save} data-testid="egress-destinations-form">
        <h2>RTMP destinations</h2>
        ${this.rows.map(
          (row, i) =>
            html`<div class="row">
              <input
                type="url"
                required
                aria-label="Server URL"
                placeholder="rtmp://a.rtmp.youtube.com/live2"
                pattern="rtmps?://.+/.+"
                data-testid="egress-destination-url"
                .value=${row.url}
                @input=${(e: Event) => this.#edit(i, { url: (e.target as HTMLInputElement).value })}
              />
              <input
                type="password"
                autocomplete="off"
                aria-label="Stream key"
                placeholder=${row.keyHint ? `key ${row.keyHint} (unchanged)` : 'Stream key'}
                ?required=${row.id === undefined}
                data-testid="egress-destination-key"
                .value=${row.key}
                @input=${(e: Event) => this.#edit(i, { key: (e.target as HTMLInputElement).value })}
              />
              <button type="button" class="secondary" @click=${() => this.#remove(i)}>Remove</button>
            </div>`,
        )}
        <div class="actions">
          <button
            type="button"
            class="secondary"
            data-testid="egress-destination-add"
            ?disabled=${this.rows.length >= this.max}
            @click=${this.#add}
          >
            Add destination
          </button>
          <button type="submit" data-testid="egress-destinations-save" ?disabled=${this.saving}>Save</button>
          ${this.saved ? html`<span class="muted" role="status">Saved: applies from the next live.</span>` : nothing}
        </div>
        ${this.error ? html`<p class="error" role="alert" data-testid="egress-error">${this.error}</p>` : nothing}
      </form>`;
  }

  #renderStatus(): TemplateResult {
    if (!this.live) return html`<p class="muted" data-testid="egress-dash">DASH: not live</p>`;
    const s = this.#status.status;
    const dash = s?.dash ?? 'starting';
    return html`<ul>
      <li data-testid="egress-dash">
        DASH/HLS: <span class="state ${dash}" data-state=${dash}>${DASH_TEXT[dash]}</span>
        ${s?.dashReason ? html`<span class="reason muted">${s.dashReason}</span>` : nothing}
      </li>
      ${(s?.destinations ?? []).map(
        (d) =>
          html`<li data-testid="egress-destination" data-state=${d.state}>
            <span class="url">${d.url}</span>
            <span class="state ${d.state}">${DESTINATION_TEXT[d.state]}</span>
            ${d.reason ? html`<span class="reason muted">${d.reason}</span>` : nothing}
          </li>`,
      )}
    </ul>`;
  }

  #edit(i: number, patch: Partial<Row>): void {
    this.rows = this.rows.map((r, j) => (j === i ? { ...r, ...patch } : r));
    this.saved = false;
  }

  readonly #add = (): void => {
    this.rows = [...this.rows, { url: '', key: '' }];
    this.saved = false;
  };

  #remove(i: number): void {
    this.rows = this.rows.filter((_, j) => j !== i);
    this.saved = false;
  }

  readonly #save = (e: Event): void => {
    e.preventDefault();
    void this.#submit();
  };

  async #submit(): Promise<void> {
    if (!this.token) return;
    this.saving = true;
    this.error = undefined;
    try {
      const { destinations } = await saveDestinations(
        this.roomId,
        this.token,
        this.rows.map((r) => ({
          ...(r.id ? { id: r.id } : {}),
          url: r.url.trim(),
          ...(r.key.trim() ? { key: r.key.trim() } : {}),
        })),
      );
      this.rows = destinations.map(toRow);
      this.saved = true;
    } catch (err) {
      this.error = messageOf(err);
    } finally {
      this.saving = false;
    }
  }
}

function toRow(d: DestinationView): Row {
  return { id: d.id, url: d.url, key: '', keyHint: d.keyHint };
}

declare global {
  interface HTMLElementTagNameMap {
    'theia-egress-panel': TheiaEgressPanel;
  }
}

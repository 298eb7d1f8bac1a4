import { LitElement, html, nothing, type TemplateResult } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { PublisherController } from '../../controllers/PublisherController.js';
import type { SignallingController } from '../../controllers/SignallingController.js';
import type { StageMember } from '../../protocol.js';
import { mediaText } from '../../text.js';
import '../stage-videos/stage-videos.js';
import styles from './guest-stage.styles.js';

/**
 * @summary A guest's stage, once the host accepted them: their own camera (sent with
 * `publishVideo`), the host and any other guest received directly from their cameras, whether
 * the camera reaches the stage, and "Leave stage". The live as viewers see it (the mix) is not
 * received meanwhile: the guest watches the members themselves.
 *
 * @fires theia-stage-leave - The guest wants to leave the stage.
 *
 * @csspart videos - The tiles (own camera first).
 * @csspart state - "Joining the stage…" / "On stage".
 * @csspart error - What went wrong with the camera or sending it.
 */
@customElement('theia-guest-stage')
export class TheiaGuestStage extends LitElement {
  static override styles = styles;

  /** The room page's signalling socket; set before the element is connected. */
  @property({ attribute: false }) signalling: SignallingController | undefined;
  @property({ attribute: false }) iceServers: RTCIceServer[] = [];
  /** The other stage members (the host first). */
  @property({ attribute: false }) members: readonly StageMember[] = [];
  /** True while leaving is on its way. */
  @property({ type: Boolean }) leaving = false;

  readonly #publisher = new PublisherController(this, {
    signalling: () => this.signalling,
    iceServers: () => this.iceServers,
  });
  /** Sending starts by itself once, when the camera is on; after a failure the guest retries. */
  #autoPublished = false;

  override updated(): void {
    const p = this.#publisher;
    if (!this.#autoPublished && p.camera === 'on' && p.state === 'offline') {
      this.#autoPublished = true;
      void p.publishStage();
    }
  }

  override render(): TemplateResult {
    const p = this.#publisher;
    const [label, cls] =
      p.state === 'live'
        ? ['On stage', 'live']
        : p.state === 'starting'
          ? ['Joining the stage…', '']
          : ['Not sending', ''];
    return html`
      ${
        p.camera === 'failed' || p.camera === 'off' || p.camera === 'starting'
          ? html`<div class="placeholder">
              ${
                p.camera === 'failed'
                  ? html`<p data-testid="camera-error">${p.cameraError}</p>
                      <button type="button" class="secondary" @click=${() => void p.startCamera()}>
                        Try again
                      </button>`
                  : html`Starting the camera…`
              }
            </div>`
          : nothing
      }
      <theia-stage-videos
        part="videos"
        .signalling=${this.signalling}
        .iceServers=${this.iceServers}
        .members=${this.members}
        .local=${p.stream}
        local-label="You"
      ></theia-stage-videos>
      <div class="bar">
        <span class="tag ${cls}" part="state" role="status" data-testid="guest-state">${label}</span>
        ${
          p.state === 'offline' && p.camera === 'on' && this.#autoPublished
            ? html`<button type="button" data-testid="guest-publish" @click=${() => void p.publishStage()}>
                Send my camera again
              </button>`
            : nothing
        }
        <button
          type="button"
          class="danger"
          data-testid="cohost-leave"
          ?disabled=${this.leaving}
          @click=${this.#leave}
        >
          ${this.leaving ? 'Leaving…' : 'Leave stage'}
        </button>
        <span class="media muted ${p.media ?? ''}" data-testid="guest-media-state"
          >${mediaText(p.media)}</span
        >
      </div>
      ${p.error ? html`<p class="error" part="error" role="alert" data-testid="guest-error">${p.error}</p>` : nothing}
    `;
  }

  readonly #leave = (): void => {
    this.dispatchEvent(new CustomEvent('theia-stage-leave', { bubbles: true, composed: true }));
  };
}

declare global {
  interface HTMLElementTagNameMap {
    'theia-guest-stage': TheiaGuestStage;
  }
  interface HTMLElementEventMap {
    'theia-stage-leave': CustomEvent<undefined>;
  }
}

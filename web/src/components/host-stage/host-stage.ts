import { LitElement, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { live } from 'lit/directives/live.js';
import { PublisherController } from '../../controllers/PublisherController.js';
import type { SignallingController } from '../../controllers/SignallingController.js';
import type { StageMember } from '../../protocol.js';
import { mediaText } from '../../text.js';
import '../stage-videos/stage-videos.js';
import styles from './host-stage.styles.js';

/**
 * @summary The host's stage: camera preview, "Go live" / "Stop", the live state ("You are
 * offline", "Starting…", "Live"), the media connection state, what went wrong, and while
 * co-hosting each guest's camera, received directly (not through the viewers' mix).
 *
 * @csspart preview - The camera preview <video>.
 * @csspart guests - The guests' tiles.
 * @csspart state - The live state label.
 * @csspart media - The "media: …" line.
 * @csspart error - The last error.
 */
@customElement('theia-host-stage')
export class TheiaHostStage extends LitElement {
  static override styles = styles;

  /** The room page's signalling socket; set before the element is connected. */
  @property({ attribute: false }) signalling: SignallingController | undefined;
  @property({ attribute: false }) iceServers: RTCIceServer[] = [];
  /** Whether the room is live according to the server (maybe from another window of the host). */
  @property({ type: Boolean }) live = false;
  /** The guests on stage (`stageChanged`), watched from the window that is live. */
  @property({ attribute: false }) guests: readonly StageMember[] = [];
  /**
   * Set by the room page after each `joinRoom` (a new object each time): `publishing` says whether
   * this window carries the live's camera (it came back within the host's grace period).
   */
  @property({ attribute: false }) joined: { publishing: boolean } | undefined;
  /** The live's camera window is away (`hostAway`): said in the other windows of the host. */
  @property({ type: Boolean, attribute: 'host-away' }) hostAway = false;

  readonly #publisher = new PublisherController(this, {
    signalling: () => this.signalling,
    iceServers: () => this.iceServers,
  });

  override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('joined') && this.joined) this.#publisher.rejoined(this.joined.publishing);
  }

  override render(): TemplateResult {
    const p = this.#publisher;
    const elsewhere = this.live && p.state === 'offline';
    const [label, cls] = elsewhere
      ? this.hostAway
        ? ['The host is reconnecting…', '']
        : ['Live from another window', 'live']
      : {
          offline: ['You are offline', ''],
          starting: ['Starting…', ''],
          live: ['Live', 'live'],
          stopping: ['Stopping…', ''],
          reconnecting: ['Reconnecting…', ''],
        }[p.state];
    return html`
      <div class="screen">
        ${
          // live(): assigning the same srcObject again restarts the preview (see viewer-stage)
          p.stream
            ? html`<video
                part="preview"
                data-testid="host-preview"
                autoplay
                playsinline
                muted
                .srcObject=${live(p.stream)}
              ></video>`
            : html`<div class="placeholder">${this.#renderCameraState()}</div>`
        }
        <span class="corner-tag ${cls}" part="state" data-testid="live-state" role="status">${label}</span>
      </div>
      <div class="bar">
        ${this.#renderButtons(elsewhere)}
        <span class="media muted ${p.media ?? ''}" part="media" data-testid="media-state"
          >${mediaText(p.media)}</span
        >
      </div>
      ${
        // only the window that went live is on the stage and may watch the guests
        p.state === 'live' && this.guests.length > 0
          ? html`<theia-stage-videos
              compact
              part="guests"
              .signalling=${this.signalling}
              .iceServers=${this.iceServers}
              .members=${this.guests}
            ></theia-stage-videos>`
          : nothing
      }
      ${p.notice ? html`<p class="muted" data-testid="live-notice">${p.notice}</p>` : nothing}
      ${p.error ? html`<p class="error" part="error" role="alert" data-testid="host-error">${p.error}</p>` : nothing}
    `;
  }

  #renderCameraState(): TemplateResult {
    const p = this.#publisher;
    switch (p.camera) {
      case 'off':
      case 'starting':
        return html`Starting the camera…`;
      case 'failed':
        return html`<p data-testid="camera-error">${p.cameraError}</p>
          <button type="button" class="secondary" @click=${() => void p.startCamera()}>Try again</button>`;
      case 'on':
        return html``;
    }
  }

  #renderButtons(elsewhere: boolean): TemplateResult {
    const p = this.#publisher;
    if (elsewhere) {
      return html`<button
        type="button"
        class="danger"
        data-testid="stop-live"
        @click=${() => void p.stopElsewhere()}
      >
        Stop that live
      </button>`;
    }
    if (p.state === 'offline') {
      return html`<button
        type="button"
        data-testid="go-live"
        ?disabled=${p.camera !== 'on'}
        @click=${() => void p.goLive()}
      >
        Go live
      </button>`;
    }
    return html`<button
      type="button"
      class="danger"
      data-testid="stop-live"
      ?disabled=${p.state === 'stopping'}
      @click=${() => void p.stop()}
    >
      Stop
    </button>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'theia-host-stage': TheiaHostStage;
  }
}

import { LitElement, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { live } from 'lit/directives/live.js';
import type { SignallingController } from '../../controllers/SignallingController.js';
import { ViewerController } from '../../controllers/ViewerController.js';
import { mediaText } from '../../text.js';
import styles from './viewer-stage.styles.js';

/**
 * @summary A viewer's stage: "Waiting for the host…" while the room is not live; when it is, a
 * receive-only connection and a <video> that says "Connecting…" until it really plays.
 *
 * @csspart video - The <video> element.
 * @csspart state - The state line ("Waiting for the host…", "Connecting…", "Playing").
 * @csspart media - The "media: …" line.
 * @csspart error - What went wrong.
 */
@customElement('theia-viewer-stage')
export class TheiaViewerStage extends LitElement {
  static override styles = styles;

  /** The room page's signalling socket; set before the element is connected. */
  @property({ attribute: false }) signalling: SignallingController | undefined;
  @property({ attribute: false }) iceServers: RTCIceServer[] = [];
  /** The room's live, or null when it is not live: watching starts, stops and restarts with it. */
  @property({ attribute: 'live-id' }) liveId: string | null = null;
  /** How the last live ended, shown while waiting. */
  @property() notice: string | undefined;

  /** True from the video's `playing` event until it stalls or the stream changes. */
  @state() private playing = false;
  /** Autoplay with sound was refused, so the video plays muted until the person unmutes it. */
  @state() private muted = false;

  @query('video') private video: HTMLVideoElement | undefined;

  readonly #viewer = new ViewerController(this, {
    signalling: () => this.signalling,
    iceServers: () => this.iceServers,
  });
  #stream: MediaStream | undefined;

  get #live(): boolean {
    return this.liveId !== null;
  }

  override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('liveId')) {
      // a new live needs a new connection: the old one's endpoint went with the old pipeline
      this.#viewer.stop();
      if (this.liveId !== null) void this.#viewer.watch();
    }
  }

  override updated(): void {
    const stream = this.#viewer.stream;
    if (stream !== this.#stream) {
      this.#stream = stream;
      this.playing = false;
      if (stream && this.video) this.#play(this.video);
    }
  }

  override render(): TemplateResult {
    const v = this.#viewer;
    const watching = this.#live && v.stream !== undefined;
    return html`
      <div class="screen">
        ${
          // live(): Lit commits an object-valued binding on every render, and each srcObject
          // assignment restarts the element's load (`emptied`), so bind it only when it differs
          watching
            ? html`<video
                part="video"
                data-testid="viewer-video"
                autoplay
                playsinline
                .srcObject=${live(v.stream)}
                .muted=${this.muted}
                @playing=${this.#onPlaying}
                @waiting=${this.#onStalled}
                @emptied=${this.#onStalled}
              ></video>`
            : nothing
        }
        ${this.#live && this.playing ? html`<span class="corner-tag live">LIVE</span>` : nothing}
        ${this.#renderOverlay()}
        ${
          this.playing && this.muted
            ? html`<button type="button" class="unmute secondary" @click=${this.#unmute}>Unmute</button>`
            : nothing
        }
      </div>
      <div class="bar">
        <span class="muted" part="state" data-testid="viewer-state" role="status">${this.#stateText()}</span>
        ${
          this.#live
            ? html`<span class="media muted ${v.media ?? ''}" part="media" data-testid="viewer-media-state"
                >${mediaText(v.media)}</span
              >`
            : nothing
        }
      </div>
      ${v.error ? html`<p class="error" part="error" role="alert" data-testid="viewer-error">${v.error}</p>` : nothing}
    `;
  }

  #stateText(): string {
    if (!this.#live) return 'Waiting for the host…';
    if (this.#viewer.state === 'failed') return 'Not connected';
    return this.playing ? 'Playing' : 'Connecting…';
  }

  #renderOverlay(): TemplateResult | typeof nothing {
    if (this.playing) return nothing;
    if (!this.#live) {
      return html`<div class="overlay">
        <span class="state">Waiting for the host…</span>
        <span>The video starts by itself when the host goes live.</span>
        ${this.notice ? html`<span data-testid="viewer-notice">${this.notice}</span>` : nothing}
      </div>`;
    }
    if (this.#viewer.state === 'failed') {
      return html`<div class="overlay"><span class="state">Could not connect to the live.</span></div>`;
    }
    return html`<div class="overlay">
      <span class="spinner" aria-hidden="true"></span><span class="state">Connecting…</span>
    </div>`;
  }

  #play(video: HTMLVideoElement): void {
    video.play().catch((err: unknown) => {
      // browsers refuse autoplay with sound before the person interacted with the page
      if (err instanceof DOMException && err.name === 'NotAllowedError' && !video.muted) {
        this.muted = true;
        video.muted = true;
        video.play().catch(() => undefined);
      }
      // AbortError: the stream changed or the live ended first
    });
  }

  readonly #onPlaying = (): void => {
    this.playing = true;
  };

  readonly #onStalled = (): void => {
    this.playing = false;
  };

  readonly #unmute = (): void => {
    this.muted = false;
    if (this.video) this.#play(this.video);
  };
}

declare global {
  interface HTMLElementTagNameMap {
    'theia-viewer-stage': TheiaViewerStage;
  }
}

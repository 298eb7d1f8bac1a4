import { LitElement, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { customElement, property, query } from 'lit/decorators.js';
import { DashPlayerController, type DashPlayerState } from '../../controllers/DashPlayerController.js';
import styles from './dash-player.styles.js';

/**
 * @summary A room's DASH stream in dash.js, low-latency mode, with its live latency ("2.1 s
 * behind live") over the picture. Plays muted when the browser refuses autoplay with sound.
 *
 * @fires theia-dash-state - `detail: {state}` when playback starts, fails or stops.
 * @csspart video - The <video> element.
 * @csspart latency - The latency label.
 */
@customElement('theia-dash-player')
export class TheiaDashPlayer extends LitElement {
  static override styles = styles;

  /** The manifest URL (`mpdUrl`); null stops playback. */
  @property() src: string | null = null;
  @property({ type: Boolean }) muted = false;

  @query('video') private video: HTMLVideoElement | undefined;

  readonly #player = new DashPlayerController(this);
  #state: DashPlayerState = 'idle';

  /** dash.js's state: idle, loading, playing, failed. */
  get state(): DashPlayerState {
    return this.#player.state;
  }
  get error(): string | undefined {
    return this.#player.error;
  }

  override updated(changed: PropertyValues<this>): void {
    if (changed.has('src')) {
      if (this.src && this.video) this.#player.attach(this.video, this.src);
      else this.#player.stop();
    }
    if (this.#player.state !== this.#state) {
      this.#state = this.#player.state;
      this.dispatchEvent(
        new CustomEvent('theia-dash-state', {
          detail: { state: this.#state },
          bubbles: true,
          composed: true,
        }),
      );
    }
  }

  override render(): TemplateResult {
    const latency = this.#player.latency;
    return html`<video part="video" data-testid="dash-video" playsinline .muted=${this.muted}></video> ${
        this.#player.state === 'playing' && latency !== undefined
          ? html`<span class="latency" part="latency" data-testid="dash-latency"
              >${latency.toFixed(1)} s behind live</span
            >`
          : nothing
      }`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'theia-dash-player': TheiaDashPlayer;
  }
}

import { LitElement, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { live } from 'lit/directives/live.js';
import type { SignallingController } from '../../controllers/SignallingController.js';
import { ViewerController } from '../../controllers/ViewerController.js';
import { ErrorCode } from '../../protocol.js';
import { mediaText } from '../../text.js';
import type { TheiaDashPlayer } from '../dash-player/dash-player.js';
import styles from './viewer-stage.styles.js';

/** How a viewer watches: WebRTC (lowest latency, limited seats) or DASH (dash.js, any number). */
export type WatchMode = 'webrtc' | 'dash';

/**
 * @summary A viewer's stage: "Waiting for the host…" while the room is not live; when it is, a
 * receive-only connection and a <video> that says "Connecting…" until it really plays — or the
 * room's DASH in dash.js, by choice ("Low latency (WebRTC)" / "DASH") or by itself when WebRTC
 * fails or the room has no WebRTC seat left (ErrorCode.WebRtcViewerLimit).
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
  /** The room's DASH manifest once it is ready (`mpdUrl`, `egressChanged`), else null. */
  @property({ attribute: false }) mpdUrl: string | null = null;
  /**
   * Counts the room page's joins: a new one (after the signalling socket came back) means watching
   * again, the server having released the old connection with the old socket.
   */
  @property({ type: Number }) joins = 0;
  /** The host's camera is away (`hostAway`): the picture may freeze until `hostBack`. */
  @property({ type: Boolean, attribute: 'host-away' }) hostAway = false;

  /** What the viewer watches; DASH after a fall-back too. */
  @state() private mode: WatchMode = 'webrtc';
  /** Why the page switched to DASH by itself. */
  @state() private fallback: string | undefined;
  @state() private dashPlaying = false;

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
    if (changed.has('liveId') || changed.has('joins')) {
      // a new live needs a new connection: the old one's endpoint went with the old pipeline (and
      // a new join, with the old socket)
      this.#viewer.stop();
      this.fallback = undefined;
      this.dashPlaying = false;
      if (this.liveId !== null && this.mode === 'webrtc') void this.#viewer.watch();
    }
    const v = this.#viewer;
    if (this.mode === 'webrtc' && this.#live && v.state === 'failed') {
      // no seat, or no WebRTC path: DASH serves everyone (it waits for mpdUrl if not ready yet)
      this.fallback =
        v.errorCode === (ErrorCode.WebRtcViewerLimit as number)
          ? 'The low-latency stream is full, so you are watching over DASH (a few seconds behind).'
          : 'The low-latency connection failed, so you are watching over DASH (a few seconds behind).';
      this.mode = 'dash';
      v.stop();
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
    if (this.mode === 'dash') return this.#renderDash();
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
        ${this.#renderOverlay()} ${this.#renderHostAway()}
        ${
          this.playing && this.muted
            ? html`<button type="button" class="unmute secondary" @click=${this.#unmute}>Unmute</button>`
            : nothing
        }
      </div>
      <div class="bar">
        <span class="muted" part="state" data-testid="viewer-state" role="status">${this.#stateText()}</span>
        ${this.#renderModes()}
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

  #renderModes(): TemplateResult | typeof nothing {
    if (!this.#live) return nothing;
    return html`<span class="modes" role="group" aria-label="How to watch">
      <button
        type="button"
        class="secondary"
        data-testid="viewer-mode-webrtc"
        aria-pressed=${this.mode === 'webrtc'}
        @click=${() => this.#setMode('webrtc')}
      >
        Low latency (WebRTC)
      </button>
      <button
        type="button"
        class="secondary"
        data-testid="viewer-mode-dash"
        aria-pressed=${this.mode === 'dash'}
        ?disabled=${this.mpdUrl === null && this.mode !== 'dash'}
        title=${this.mpdUrl === null ? 'DASH starts a few seconds after the live' : ''}
        @click=${() => this.#setMode('dash')}
      >
        DASH
      </button>
    </span>`;
  }

  #renderDash(): TemplateResult {
    // dash.js is ~1 MB: loaded the first time someone watches DASH (Lit keeps the properties set
    // before the element is defined)
    void import('../dash-player/dash-player.js');
    const playing = this.#live && this.dashPlaying;
    const state = !this.#live ? 'Waiting for the host…' : playing ? 'Playing (DASH)' : 'Loading DASH…';
    return html`
      <div class="screen">
        ${
          this.#live && this.mpdUrl
            ? html`<theia-dash-player
                part="dash"
                .src=${this.mpdUrl}
                .muted=${this.muted}
                @theia-dash-state=${this.#onDashState}
              ></theia-dash-player>`
            : nothing
        }
        ${playing ? html`<span class="corner-tag live">LIVE</span>` : nothing} ${this.#renderHostAway()}
        ${
          !this.#live
            ? this.#renderOverlay()
            : playing
              ? nothing
              : html`<div class="overlay">
                  <span class="spinner" aria-hidden="true"></span
                  ><span class="state"
                    >${this.mpdUrl ? 'Loading DASH…' : 'Waiting for the DASH stream…'}</span
                  >
                </div>`
        }
      </div>
      <div class="bar">
        <span class="muted" part="state" data-testid="viewer-state" role="status">${state}</span>
        ${this.#renderModes()}
      </div>
      ${this.fallback ? html`<p class="muted" data-testid="viewer-fallback" role="status">${this.fallback}</p>` : nothing}
    `;
  }

  #setMode(mode: WatchMode): void {
    if (mode === this.mode) return;
    this.mode = mode;
    this.fallback = undefined;
    this.dashPlaying = false;
    // one stream at a time: leaving WebRTC frees its seat for someone else
    this.#viewer.stop();
    if (mode === 'webrtc' && this.#live) void this.#viewer.watch();
  }

  readonly #onDashState = (e: CustomEvent<{ state: TheiaDashPlayer['state'] }>): void => {
    this.dashPlaying = e.detail.state === 'playing';
  };

  #stateText(): string {
    if (!this.#live) return 'Waiting for the host…';
    if (this.#viewer.state === 'failed') return 'Not connected';
    return this.playing ? 'Playing' : 'Connecting…';
  }

  #renderHostAway(): TemplateResult | typeof nothing {
    if (!this.#live || !this.hostAway) return nothing;
    return html`<div class="host-away" data-testid="viewer-host-away" role="status">
      <span class="spinner" aria-hidden="true"></span><span>The host is reconnecting…</span>
    </div>`;
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

import { LitElement, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { live } from 'lit/directives/live.js';
import { repeat } from 'lit/directives/repeat.js';
import type { SignallingController } from '../../controllers/SignallingController.js';
import { StageVideosController, type MemberVideo } from '../../controllers/StageVideosController.js';
import type { StageMember } from '../../protocol.js';
import styles from './stage-videos.styles.js';

/**
 * @summary The other stage members as a stage member sees them: one tile per member, received
 * directly from their camera (`receiveVideo {from}`), with their name, "Connecting…" until the
 * picture moves, and what went wrong. Optionally the page's own camera first, as a mirror.
 *
 * @csspart tile - One member's tile (a <figure>).
 * @csspart video - A member's <video>.
 * @csspart caption - A member's name and role.
 */
@customElement('theia-stage-videos')
export class TheiaStageVideos extends LitElement {
  static override styles = styles;

  /** The room page's signalling socket; set before the element is connected. */
  @property({ attribute: false }) signalling: SignallingController | undefined;
  @property({ attribute: false }) iceServers: RTCIceServer[] = [];
  /** The members to watch (not this page's own user). */
  @property({ attribute: false }) members: readonly StageMember[] = [];
  /** This page's camera, shown first and mirrored; none when undefined. */
  @property({ attribute: false }) local: MediaStream | undefined;
  /** Small tiles, for beside a larger picture (the host's preview). */
  @property({ type: Boolean, reflect: true }) compact = false;
  /** The label of the own tile. */
  @property({ attribute: 'local-label' }) localLabel = 'You';

  /** User ids whose video is playing (from `playing` until `waiting` / `emptied`). */
  @state() private playing: ReadonlySet<string> = new Set();

  readonly #videos = new StageVideosController(this, {
    signalling: () => this.signalling,
    iceServers: () => this.iceServers,
  });

  override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('members')) this.#videos.sync(this.members);
  }

  override render(): TemplateResult {
    return html`
      ${
        this.local
          ? html`<figure part="tile" class="own">
              <video
                part="video"
                data-testid="stage-own-video"
                autoplay
                playsinline
                muted
                .srcObject=${live(this.local)}
              ></video>
              <figcaption part="caption"><span class="name">${this.localLabel}</span></figcaption>
            </figure>`
          : nothing
      }
      ${repeat(
        this.#videos.videos,
        (v) => `${v.member.userId}/${v.member.liveId}`,
        (v) => this.#renderTile(v),
      )}
    `;
  }

  #renderTile(v: MemberVideo): TemplateResult {
    const { member } = v;
    const playing = this.playing.has(member.userId);
    return html`<figure part="tile" data-testid="stage-tile" data-user=${member.name}>
      ${
        v.stream
          ? html`<video
              part="video"
              data-testid=${member.role === 'host' ? 'stage-host-video' : 'stage-guest-video'}
              autoplay
              playsinline
              .srcObject=${live(v.stream)}
              @playing=${() => this.#setPlaying(member.userId, true)}
              @waiting=${() => this.#setPlaying(member.userId, false)}
              @emptied=${() => this.#setPlaying(member.userId, false)}
              @loadedmetadata=${this.#play}
            ></video>`
          : nothing
      }
      ${
        v.error
          ? html`<div class="waiting failed" role="alert">
              <span data-testid="stage-video-error">${v.error}</span>
              <button type="button" class="secondary" @click=${() => this.#videos.retry(member.userId)}>
                Try again
              </button>
            </div>`
          : playing
            ? nothing
            : html`<div class="waiting" data-testid="stage-video-waiting">
                ${member.role === 'host' ? 'Connecting to the host…' : `Waiting for ${member.name}'s camera…`}
              </div>`
      }
      <figcaption part="caption">
        <span class="name">${member.name}</span><span class="role">${member.role}</span>
      </figcaption>
    </figure>`;
  }

  #setPlaying(userId: string, playing: boolean): void {
    const next = new Set(this.playing);
    if (playing) next.add(userId);
    else next.delete(userId);
    this.playing = next;
  }

  /** Starts the video; with sound refused (no click on the page yet), muted rather than not at all. */
  readonly #play = (event: Event): void => {
    const video = event.target as HTMLVideoElement;
    video.play().catch((err: unknown) => {
      if (err instanceof DOMException && err.name === 'NotAllowedError' && !video.muted) {
        video.muted = true;
        video.play().catch(() => undefined);
      }
    });
  };
}

declare global {
  interface HTMLElementTagNameMap {
    'theia-stage-videos': TheiaStageVideos;
  }
}

import { css } from 'lit';
import { sharedStyles } from '../../styles/shared.styles.js';

export default [
  sharedStyles,
  css`
    :host {
      display: grid;
      grid-template-columns: repeat(auto-fit, minmax(min(100%, 16rem), 1fr));
      gap: 0.75rem;
    }
    /* beside a larger picture (the host's own preview): tiles keep a small size */
    :host([compact]) {
      grid-template-columns: repeat(auto-fill, minmax(min(100%, 14rem), 1fr));
    }
    :host([hidden]) {
      display: none;
    }
    figure {
      margin: 0;
      position: relative;
      aspect-ratio: 16 / 9;
      background: var(--theia-stage);
      border-radius: 10px;
      overflow: hidden;
      display: grid;
      place-items: center;
    }
    video {
      width: 100%;
      height: 100%;
      object-fit: contain;
    }
    .own video {
      transform: scaleX(-1); /* one's own camera reads like a mirror */
    }
    figcaption {
      position: absolute;
      left: 0.5rem;
      bottom: 0.5rem;
      display: flex;
      gap: 0.4rem;
      align-items: center;
      padding: 0.2rem 0.5rem;
      border-radius: 6px;
      background: rgb(0 0 0 / 0.6);
      color: white;
      font-size: 0.85rem;
      max-width: calc(100% - 1rem);
    }
    figcaption .name {
      font-weight: 700;
      overflow: hidden;
      text-overflow: ellipsis;
      white-space: nowrap;
    }
    .role {
      font-size: 0.7rem;
      text-transform: uppercase;
      letter-spacing: 0.05em;
      opacity: 0.8;
    }
    .waiting {
      position: absolute;
      inset: 0;
      display: grid;
      place-content: center;
      gap: 0.5rem;
      padding: 1rem;
      text-align: center;
      color: #e4e5ec;
      font-size: 0.9rem;
    }
    .waiting.failed {
      color: #ffb4b4;
    }
    .waiting button {
      justify-self: center;
    }
  `,
];

import { css } from 'lit';
import { sharedStyles, stageStyles } from '../../styles/shared.styles.js';

export default [
  sharedStyles,
  stageStyles,
  css`
    video {
    }
    .overlay {
      position: absolute;
      inset: 0;
      display: grid;
      place-content: center;
      gap: 0.5rem;
      text-align: center;
      color: #e4e5ec;
      padding: 1rem;
      pointer-events: none;
    }
    .overlay button {
      pointer-events: auto;
      justify-self: center;
    }
    .host-away {
      position: absolute;
      inset: 0;
      display: flex;
      align-items: center;
      justify-content: center;
      gap: 0.75rem;
      color: #e4e5ec;
      font-weight: 600;
      background: rgb(0 0 0 / 0.55);
      pointer-events: none;
    }
    .host-away .spinner {
      width: 1.25rem;
      height: 1.25rem;
    }
    .state {
      font-size: 1.15rem;
      font-weight: 600;
    }
    .spinner {
      justify-self: center;
      width: 2rem;
      height: 2rem;
      border-radius: 50%;
      border: 3px solid rgb(255 255 255 / 0.25);
      border-top-color: white;
      animation: spin 0.9s linear infinite;
    }
    @keyframes spin {
      to {
        transform: rotate(360deg);
      }
    }
    @media (prefers-reduced-motion: reduce) {
      .spinner {
        animation: none;
      }
    }
    .unmute {
      position: absolute;
      bottom: 0.75rem;
      right: 0.75rem;
    }
    .bar {
      display: flex;
      align-items: center;
      gap: 1rem;
      font-size: 0.9rem;
    }
    .bar .media {
      margin-left: auto;
    }
    .modes {
      display: inline-flex;
      gap: 0.25rem;
    }
    .modes button[aria-pressed='true'] {
      outline: 2px solid var(--theia-accent, currentColor);
    }
    .media.connected {
      color: var(--theia-ok);
    }
    .media.failed {
      color: var(--theia-error);
    }
  `,
];

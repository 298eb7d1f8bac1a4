import { css } from 'lit';
import { sharedStyles, stageStyles } from '../../styles/shared.styles.js';

export default [
  sharedStyles,
  stageStyles,
  css`
    video {
      transform: scaleX(-1); /* a preview reads like a mirror; viewers get the real image */
    }
    .placeholder {
      color: #c9cad3;
      text-align: center;
      padding: 1rem;
      max-width: 28rem;
    }
    .state {
      position: absolute;
      top: 0.75rem;
      left: 0.75rem;
      padding: 0.25rem 0.6rem;
      border-radius: 6px;
      font-weight: 700;
      font-size: 0.85rem;
      background: rgb(0 0 0 / 0.6);
      color: white;
    }
    .state.live {
      background: var(--theia-live);
    }
    .bar {
      display: flex;
      align-items: center;
      gap: 1rem;
      flex-wrap: wrap;
    }
    .bar .media {
      margin-left: auto;
      font-size: 0.9rem;
    }
    .media.connected {
      color: var(--theia-ok);
    }
    .media.failed {
      color: var(--theia-error);
    }
  `,
];

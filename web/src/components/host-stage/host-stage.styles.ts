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

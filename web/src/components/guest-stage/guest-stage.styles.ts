import { css } from 'lit';
import { sharedStyles } from '../../styles/shared.styles.js';

export default [
  sharedStyles,
  css`
    :host {
      display: flex;
      flex-direction: column;
      gap: 0.75rem;
    }
    .placeholder {
      aspect-ratio: 16 / 9;
      display: grid;
      place-content: center;
      gap: 0.5rem;
      padding: 1rem;
      text-align: center;
      border-radius: 12px;
      background: var(--theia-stage);
      color: #c9cad3;
    }
    .placeholder button {
      justify-self: center;
    }
    .bar {
      display: flex;
      align-items: center;
      gap: 1rem;
      flex-wrap: wrap;
    }
    .tag {
      padding: 0.25rem 0.6rem;
      border-radius: 6px;
      font-weight: 700;
      font-size: 0.85rem;
      background: var(--theia-stage);
      color: white;
    }
    .tag.live {
      background: var(--theia-live);
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

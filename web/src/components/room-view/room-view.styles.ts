import { css } from 'lit';
import { sharedStyles } from '../../styles/shared.styles.js';

export default [
  sharedStyles,
  css`
    :host {
      display: block;
    }
    .head {
      display: flex;
      align-items: center;
      gap: 1rem;
      flex-wrap: wrap;
      margin-bottom: 1rem;
    }
    h1 {
      margin: 0;
      font-size: 1.5rem;
      overflow-wrap: anywhere;
    }
    .host {
      color: var(--theia-muted);
    }
    .viewers {
      margin-left: auto;
      color: var(--theia-muted);
      font-weight: 600;
    }
    .layout {
      display: grid;
      grid-template-columns: minmax(0, 1fr) 22rem;
      gap: 1.25rem;
      align-items: start;
    }
    .stage {
      display: flex;
      flex-direction: column;
      gap: 1rem;
      min-width: 0;
    }
    theia-chat-panel {
      height: min(36rem, calc(100vh - 10rem));
    }
    @media (max-width: 900px) {
      .layout {
        grid-template-columns: 1fr;
      }
      theia-chat-panel {
        height: 26rem;
      }
    }
    .banner {
      display: flex;
      align-items: center;
      gap: 1rem;
      margin-bottom: 1rem;
    }
    .banner p {
      flex: 1;
    }
  `,
];

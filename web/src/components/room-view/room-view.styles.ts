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
    .banner.reconnecting {
      padding: 0.5rem 0.75rem;
      border-radius: 0.5rem;
      background: rgb(255 200 0 / 0.12);
    }
    .banner.reconnecting p {
      margin: 0;
      display: flex;
      gap: 0.75rem;
      flex-wrap: wrap;
    }
    .spinner {
      width: 1rem;
      height: 1rem;
      border-radius: 50%;
      border: 2px solid rgb(127 127 127 / 0.35);
      border-top-color: currentColor;
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
  `,
];

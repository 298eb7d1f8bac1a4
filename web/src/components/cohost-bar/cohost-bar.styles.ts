import { css } from 'lit';
import { sharedStyles } from '../../styles/shared.styles.js';

export default [
  sharedStyles,
  css`
    :host {
      display: grid;
      gap: 0.5rem;
    }
    .bar {
      display: flex;
      align-items: center;
      gap: 0.75rem;
      flex-wrap: wrap;
      padding: 0.6rem 0.85rem;
      border: 1px solid var(--theia-border);
      border-radius: 10px;
      background: var(--theia-surface);
    }
    .bar .text {
      flex: 1 1 12rem;
    }
    .pending .text::before {
      content: '';
      display: inline-block;
      width: 0.6rem;
      height: 0.6rem;
      margin-right: 0.5rem;
      border-radius: 50%;
      background: var(--theia-accent);
      animation: pulse 1.2s ease-in-out infinite;
    }
    @keyframes pulse {
      50% {
        opacity: 0.3;
      }
    }
    @media (prefers-reduced-motion: reduce) {
      .pending .text::before {
        animation: none;
      }
    }
    .notice {
      margin: 0;
      padding: 0.5rem 0.75rem;
      border-radius: 8px;
      background: var(--theia-surface-hover);
    }
  `,
];

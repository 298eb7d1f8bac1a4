import { css } from 'lit';
import { sharedStyles } from '../../styles/shared.styles.js';

export default [
  sharedStyles,
  css`
    :host {
      display: block;
      max-width: 24rem;
      margin: 3rem auto;
    }
    form {
      display: flex;
      flex-direction: column;
      gap: 1rem;
      background: var(--theia-surface);
      border: 1px solid var(--theia-border);
      border-radius: 12px;
      padding: 1.75rem;
    }
    h1 {
      margin: 0;
      font-size: 1.4rem;
    }
    label {
      display: flex;
      flex-direction: column;
      gap: 0.3rem;
      font-weight: 600;
    }
    .hint {
      font-size: 0.85rem;
      font-weight: 400;
      color: var(--theia-muted);
    }
    .switch {
      text-align: center;
      margin: 0;
    }
  `,
];

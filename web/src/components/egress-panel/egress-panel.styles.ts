import { css } from 'lit';
import { sharedStyles } from '../../styles/shared.styles.js';

export default [
  sharedStyles,
  css`
    :host {
      display: block;
    }
    h2 {
      font-size: 1rem;
      margin: 0 0 0.5rem;
    }
    ul {
      list-style: none;
      margin: 0 0 0.75rem;
      padding: 0;
      display: grid;
      gap: 0.25rem;
    }
    li {
      display: flex;
      gap: 0.5rem;
      align-items: baseline;
      flex-wrap: wrap;
    }
    .url {
      font-family: ui-monospace, monospace;
      font-size: 0.85rem;
      word-break: break-all;
    }
    .state.ready,
    .state.live {
      color: var(--theia-ok);
    }
    .state.failed {
      color: var(--theia-error);
    }
    .reason {
      font-size: 0.8rem;
    }
    form {
      display: grid;
      gap: 0.5rem;
    }
    .row {
      display: grid;
      grid-template-columns: 2fr 1fr auto;
      gap: 0.25rem;
    }
    .actions {
      display: flex;
      gap: 0.5rem;
      align-items: center;
    }
  `,
];

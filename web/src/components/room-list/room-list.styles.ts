import { css } from 'lit';
import { sharedStyles } from '../../styles/shared.styles.js';

export default [
  sharedStyles,
  css`
    :host {
      display: block;
    }
    .top {
      display: flex;
      align-items: baseline;
      justify-content: space-between;
      gap: 1rem;
      margin-bottom: 1rem;
    }
    h1 {
      margin: 0;
      font-size: 1.5rem;
    }
    ul {
      list-style: none;
      margin: 0;
      padding: 0;
      display: grid;
      grid-template-columns: repeat(auto-fill, minmax(16rem, 1fr));
      gap: 1rem;
    }
    a.card {
      display: flex;
      flex-direction: column;
      gap: 0.75rem;
      height: 100%;
      padding: 1rem 1.1rem;
      background: var(--theia-surface);
      border: 1px solid var(--theia-border);
      border-radius: 12px;
      color: inherit;
      text-decoration: none;
      transition:
        border-color 0.15s,
        box-shadow 0.15s;
    }
    a.card:hover {
      border-color: var(--theia-accent);
      box-shadow: 0 2px 10px rgb(0 0 0 / 0.06);
    }
    a.card.live {
      border-left: 4px solid var(--theia-live);
    }
    .title {
      font-weight: 700;
      font-size: 1.05rem;
      overflow-wrap: anywhere;
    }
    .meta {
      display: flex;
      align-items: center;
      justify-content: space-between;
      gap: 0.5rem;
      color: var(--theia-muted);
      font-size: 0.9rem;
      margin-top: auto;
    }
    .offline {
      font-size: 0.8rem;
      color: var(--theia-muted);
    }
    .empty {
      padding: 3rem 1rem;
      text-align: center;
      background: var(--theia-surface);
      border: 1px dashed var(--theia-border);
      border-radius: 12px;
    }
  `,
];

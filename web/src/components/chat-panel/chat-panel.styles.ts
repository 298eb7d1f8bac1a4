import { css } from 'lit';
import { sharedStyles } from '../../styles/shared.styles.js';

export default [
  sharedStyles,
  css`
    :host {
      display: flex;
      flex-direction: column;
      min-height: 0;
      background: var(--theia-surface);
      border: 1px solid var(--theia-border);
      border-radius: 12px;
      overflow: hidden;
    }
    h2 {
      margin: 0;
      padding: 0.75rem 1rem;
      font-size: 1rem;
      border-bottom: 1px solid var(--theia-border);
    }
    ol {
      list-style: none;
      margin: 0;
      padding: 0.5rem 1rem;
      flex: 1;
      min-height: 12rem;
      overflow-y: auto;
      display: flex;
      flex-direction: column;
      gap: 0.4rem;
    }
    li {
      overflow-wrap: anywhere;
    }
    li.notice {
      align-self: center;
      font-size: 0.85rem;
      color: var(--theia-muted);
      font-style: italic;
    }
    .who {
      font-weight: 700;
      margin-right: 0.35rem;
    }
    .who.self {
      color: var(--theia-accent);
    }
    time {
      font-size: 0.75rem;
      color: var(--theia-muted);
      margin-left: 0.35rem;
    }
    .empty {
      margin: auto;
      color: var(--theia-muted);
      text-align: center;
    }
    form {
      display: flex;
      gap: 0.5rem;
      padding: 0.75rem;
      border-top: 1px solid var(--theia-border);
    }
    .footer {
      padding: 0 0.75rem 0.75rem;
      display: flex;
      flex-direction: column;
      gap: 0.5rem;
      font-size: 0.9rem;
    }
    .footer:empty {
      display: none;
    }
  `,
];

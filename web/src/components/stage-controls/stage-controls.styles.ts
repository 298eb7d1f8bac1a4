import { css } from 'lit';
import { sharedStyles } from '../../styles/shared.styles.js';

export default [
  sharedStyles,
  css`
    :host {
      display: block;
      border: 1px solid var(--theia-border);
      border-radius: 12px;
      background: var(--theia-surface);
      padding: 1rem;
    }
    .head {
      display: flex;
      align-items: center;
      gap: 0.75rem;
      flex-wrap: wrap;
    }
    h2 {
      margin: 0;
      font-size: 1.1rem;
    }
    h3 {
      margin: 1rem 0 0.5rem;
      font-size: 0.95rem;
      display: flex;
      align-items: center;
      gap: 0.5rem;
    }
    .count {
      display: inline-block;
      min-width: 1.4rem;
      padding: 0.05rem 0.45rem;
      border-radius: 999px;
      background: var(--theia-accent);
      color: white;
      font-size: 0.75rem;
      text-align: center;
    }
    .count.zero {
      background: var(--theia-border);
      color: var(--theia-muted);
    }
    ul {
      list-style: none;
      margin: 0;
      padding: 0;
      display: grid;
      gap: 0.4rem;
    }
    li {
      display: flex;
      align-items: center;
      gap: 0.5rem;
      flex-wrap: wrap;
      padding: 0.4rem 0.6rem;
      border-radius: 8px;
      background: var(--theia-bg, transparent);
      border: 1px solid var(--theia-border);
    }
    li .name {
      font-weight: 600;
      overflow-wrap: anywhere;
    }
    li .since {
      color: var(--theia-muted);
      font-size: 0.85rem;
    }
    li .actions {
      margin-left: auto;
      display: flex;
      gap: 0.4rem;
    }
    li button {
      padding: 0.3rem 0.75rem;
    }
    li.empty {
      border-style: dashed;
      color: var(--theia-muted);
    }
    .switch {
      display: inline-flex;
      align-items: center;
      gap: 0.5rem;
      cursor: pointer;
      font-weight: 600;
    }
    .switch input {
      appearance: none;
      width: 2.4rem;
      height: 1.35rem;
      padding: 0;
      border-radius: 999px;
      border: 1px solid var(--theia-border);
      background: var(--theia-border);
      position: relative;
      cursor: pointer;
      transition: background 0.15s;
      flex: none;
    }
    .switch input::after {
      content: '';
      position: absolute;
      top: 2px;
      left: 2px;
      width: calc(1.35rem - 6px);
      height: calc(1.35rem - 6px);
      border-radius: 50%;
      background: white;
      transition: transform 0.15s;
    }
    .switch input:checked {
      background: var(--theia-accent);
    }
    .switch input:checked::after {
      transform: translateX(1.05rem);
    }
    .switch input:disabled {
      opacity: 0.55;
      cursor: not-allowed;
    }
    .switch .state {
      font-weight: 400;
      color: var(--theia-muted);
    }
    .head .switch {
      margin-left: auto;
    }
    .settings {
      display: flex;
      flex-wrap: wrap;
      gap: 0.75rem 1.5rem;
      align-items: center;
    }
    .segmented {
      display: inline-flex;
      border: 1px solid var(--theia-border);
      border-radius: 8px;
      overflow: hidden;
    }
    .segmented button {
      border-radius: 0;
      border: none;
      background: transparent;
      color: var(--theia-text);
      padding: 0.35rem 0.8rem;
      font-weight: 500;
    }
    .segmented button + button {
      border-left: 1px solid var(--theia-border);
    }
    .segmented button[aria-pressed='true'] {
      background: var(--theia-accent);
      color: white;
      font-weight: 600;
    }
    .hint {
      margin: 0.5rem 0 0;
      font-size: 0.9rem;
    }
    .error {
      margin-top: 0.75rem;
      display: flex;
      gap: 0.5rem;
      align-items: center;
    }
    .error span {
      flex: 1;
    }
    .error button {
      padding: 0.2rem 0.6rem;
    }
  `,
];

import { css } from 'lit';
import { sharedStyles } from '../../styles/shared.styles.js';

export default [
  sharedStyles,
  css`
    :host {
      display: flex;
      flex-direction: column;
      min-height: 100vh;
    }
    header {
      display: flex;
      align-items: center;
      gap: 1.5rem;
      padding: 0.75rem 1.5rem;
      background: var(--theia-surface);
      border-bottom: 1px solid var(--theia-border);
    }
    .brand {
      font-size: 1.25rem;
      font-weight: 800;
      letter-spacing: -0.02em;
      color: var(--theia-text);
      text-decoration: none;
      display: flex;
      align-items: center;
      gap: 0.5rem;
    }
    .brand::before {
      content: '';
      width: 0.8rem;
      height: 0.8rem;
      border-radius: 50%;
      background: var(--theia-accent);
    }
    nav {
      display: flex;
      align-items: center;
      flex-wrap: wrap;
      gap: 0.25rem;
      flex: 1;
      min-width: 0;
    }
    @media (max-width: 480px) {
      /* a phone: the header's links wrap instead of widening the page */
      header {
        gap: 0.75rem;
        padding: 0.6rem 0.75rem;
      }
      nav a,
      nav button {
        padding: 0.35rem 0.5rem;
        white-space: nowrap;
      }
    }
    nav .spacer {
      flex: 1;
    }
    nav a,
    nav button {
      color: var(--theia-text);
      text-decoration: none;
      font-weight: 500;
      padding: 0.4rem 0.75rem;
      border-radius: 8px;
      background: none;
      border: none;
    }
    nav a:hover,
    nav button:hover:not(:disabled) {
      background: var(--theia-surface-hover);
    }
    nav a[aria-current='page'] {
      color: var(--theia-accent);
      font-weight: 600;
    }
    nav a.cta {
      background: var(--theia-accent);
      color: white;
    }
    nav a.cta:hover {
      background: var(--theia-accent-strong);
    }
    .user {
      font-weight: 600;
      padding: 0 0.5rem;
    }
    .dot {
      color: var(--theia-muted);
    }
    main {
      flex: 1;
      width: 100%;
      max-width: 1280px;
      margin: 0 auto;
      padding: 1.5rem;
    }
    .notice {
      max-width: 32rem;
      margin: 4rem auto;
      text-align: center;
    }
  `,
];

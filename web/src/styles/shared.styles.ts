/** Styles every component shares: the box model, buttons, inputs, status lines. */
import { css } from 'lit';

export const sharedStyles = css`
  :host {
    box-sizing: border-box;
  }
  *,
  *::before,
  *::after {
    box-sizing: inherit;
  }
  [hidden] {
    display: none !important;
  }
  button {
    font: inherit;
    font-weight: 600;
    border: 1px solid transparent;
    border-radius: 8px;
    padding: 0.5rem 1rem;
    cursor: pointer;
    background: var(--theia-accent);
    color: white;
  }
  button:hover:not(:disabled) {
    background: var(--theia-accent-strong);
  }
  button:disabled {
    opacity: 0.55;
    cursor: not-allowed;
  }
  button.secondary {
    background: var(--theia-surface);
    color: var(--theia-text);
    border-color: var(--theia-border);
  }
  button.secondary:hover:not(:disabled) {
    background: var(--theia-surface-hover);
  }
  button.danger {
    background: var(--theia-live);
  }
  button.danger:hover:not(:disabled) {
    background: var(--theia-live-strong);
  }
  input {
    font: inherit;
    width: 100%;
    padding: 0.5rem 0.65rem;
    border: 1px solid var(--theia-border);
    border-radius: 8px;
    background: var(--theia-surface);
    color: var(--theia-text);
  }
  input:focus-visible,
  button:focus-visible,
  a:focus-visible {
    outline: 2px solid var(--theia-accent);
    outline-offset: 2px;
  }
  a {
    color: var(--theia-accent);
  }
  .error {
    color: var(--theia-error);
    background: var(--theia-error-bg);
    border-radius: 8px;
    padding: 0.5rem 0.75rem;
    margin: 0;
  }
  .muted {
    color: var(--theia-muted);
  }
  .badge-live {
    display: inline-block;
    background: var(--theia-live);
    color: white;
    font-size: 0.7rem;
    font-weight: 700;
    letter-spacing: 0.06em;
    padding: 0.15rem 0.45rem;
    border-radius: 4px;
  }
`;

/** The 16:9 stage that holds a host's preview or a viewer's video. */
export const stageStyles = css`
  :host {
    display: flex;
    flex-direction: column;
    gap: 0.75rem;
  }
  .screen {
    position: relative;
    aspect-ratio: 16 / 9;
    background: var(--theia-stage);
    border-radius: 12px;
    overflow: hidden;
    display: grid;
    place-items: center;
  }
  video {
    width: 100%;
    height: 100%;
    object-fit: contain;
  }
  /* a label in the stage's top-left corner ("Live", "Starting…"); red when live */
  .corner-tag {
    position: absolute;
    top: 0.75rem;
    left: 0.75rem;
    padding: 0.25rem 0.6rem;
    border-radius: 6px;
    font-weight: 700;
    font-size: 0.85rem;
    background: rgb(0 0 0 / 0.6);
    color: white;
  }
  .corner-tag.live {
    background: var(--theia-live);
  }
`;

import { css } from 'lit';

export default css`
  :host {
    display: block;
    position: relative;
    width: 100%;
    height: 100%;
  }
  video {
    width: 100%;
    height: 100%;
    object-fit: contain;
    background: #000;
  }
  .latency {
    position: absolute;
    top: 0.5rem;
    right: 0.5rem;
    padding: 0.1rem 0.4rem;
    border-radius: 0.25rem;
    background: rgb(0 0 0 / 0.55);
    color: #e4e5ec;
    font-size: 0.8rem;
    font-variant-numeric: tabular-nums;
  }
`;

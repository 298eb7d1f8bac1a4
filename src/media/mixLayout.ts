/**
 * The geometry of the mixes: the size of a grid (Composite) and where picture-in-picture guests
 * sit (AlphaBlending). Pure functions, so the numbers are tested and documented in one place
 * (doc/media-graph.md).
 */
import type { PortProperties } from './elements/AlphaBlending.js';

/**
 * The cell each feed gets in a grid, px: a browser camera's usual 640×480. KMS's Composite lays n
 * inputs out in ceil(√n) columns and ceil(n / columns) rows, each scaled to fit its cell.
 */
export const GRID_CELL = { width: 640, height: 480 } as const;

/** Caps of a mix: px and frames per second (config MIX_WIDTH, MIX_HEIGHT, MIX_FPS). */
export interface MixLimits {
  maxWidth: number;
  maxHeight: number;
  framerate: number;
}

/**
 * The Composite output for `feeds` inputs: no larger than shows each feed at GRID_CELL, capped by
 * `limits`, even sizes (H.264 4:2:0 needs them). The mix is the costliest thing Theia asks of KMS
 * (measured on KMS 7.3, two 640×360 inputs: 1280×720@30 ≈ 0.85 core, 960×540@30 ≈ 0.55,
 * 1280×720@15 ≈ 0.71, AlphaBlending ≈ 0.25), so it is never sized larger than the stage needs.
 * @returns `{width, height, framerate}` in px and fps.
 * @throws RangeError for fewer than 1 feed.
 */
export function gridSize(
  feeds: number,
  limits: MixLimits,
): { width: number; height: number; framerate: number } {
  if (!Number.isInteger(feeds) || feeds < 1)
    throw new RangeError(`gridSize needs at least one feed, got ${feeds}`);
  const columns = Math.ceil(Math.sqrt(feeds));
  const rows = Math.ceil(feeds / columns);
  const even = (n: number): number => Math.max(2, Math.floor(n / 2) * 2);
  return {
    width: even(Math.min(limits.maxWidth, columns * GRID_CELL.width)),
    height: even(Math.min(limits.maxHeight, rows * GRID_CELL.height)),
    framerate: limits.framerate,
  };
}

/** Picture-in-picture windows: this fraction of the frame each way, with this margin. */
const PIP_SIZE = 0.28;
const PIP_MARGIN = 0.03;

/**
 * Where guest `index` (0-based) sits over the host in picture-in-picture: a window of 28 % of the
 * frame each way in the right-hand column, the first at the bottom, the next ones above it.
 */
export function pipWindow(index: number): PortProperties {
  return {
    relativeX: 1 - PIP_MARGIN - PIP_SIZE,
    relativeY: 1 - (PIP_MARGIN + PIP_SIZE) * (index + 1),
    relativeWidth: PIP_SIZE,
    relativeHeight: PIP_SIZE,
    zOrder: 2 + index,
  };
}

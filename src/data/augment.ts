// Training-time augmentation: a random integer translation with zero fill. The shift is a pure
// function of (seed, example index), so any worker that gathers an example in a given epoch
// applies the same shift; callers fold the epoch into the seed (see epochSeed).

import { createRng, mixSeeds } from './rng.js';

export interface Shift {
  /** Columns to move right (negative: left). */
  dx: number;
  /** Rows to move down (negative: up). */
  dy: number;
}

/** The shift for one example: dx, dy each uniform in -maxShift..maxShift. */
export function augmentShift(seed: number, exampleIndex: number, maxShift: number): Shift {
  if (maxShift === 0) return { dx: 0, dy: 0 };
  const rng = createRng(mixSeeds(seed, exampleIndex));
  const span = 2 * maxShift + 1;
  const dx = rng.nextInt(span) - maxShift;
  const dy = rng.nextInt(span) - maxShift;
  return { dx, dy };
}

/**
 * Writes one rows x cols image from `src` at `srcOffset` into `dst` at `dstOffset`, moved by
 * `shift` and multiplied by `scale`; pixels shifted in from outside the image are 0.
 */
export function writeShiftedImage(
  src: Uint8Array,
  srcOffset: number,
  dst: Float32Array,
  dstOffset: number,
  rows: number,
  cols: number,
  shift: Shift,
  scale: number,
): void {
  for (let y = 0; y < rows; y++) {
    const sy = y - shift.dy;
    const rowInside = sy >= 0 && sy < rows;
    for (let x = 0; x < cols; x++) {
      const sx = x - shift.dx;
      const inside = rowInside && sx >= 0 && sx < cols;
      dst[dstOffset + y * cols + x] = inside ? src[srcOffset + sy * cols + sx] * scale : 0;
    }
  }
}

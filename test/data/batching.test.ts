import { describe, expect, it } from 'vitest';
import { augmentShift } from '../../src/data/augment.js';
import {
  epochPermutation,
  filterClasses,
  gatherBatch,
  globalBatchIndices,
  parseClassList,
  splitBatch,
  stepsPerEpoch,
} from '../../src/data/batching.js';
import type { Split } from '../../src/data/types.js';

const ROWS = 8;
const COLS = 8;

/** Example i is all zeros except one 255 pixel at (x=3+i%2, y=4), label i % 10. */
function dotSplit(count: number): Split {
  const images = new Uint8Array(count * ROWS * COLS);
  for (let i = 0; i < count; i++) images[i * ROWS * COLS + 4 * COLS + 3 + (i % 2)] = 255;
  const labels = Uint8Array.from({ length: count }, (_, i) => i % 10);
  return { images, labels, count, rows: ROWS, cols: COLS };
}

function brightPixel(images: Float32Array, b: number): { x: number; y: number } {
  const img = images.subarray(b * ROWS * COLS, (b + 1) * ROWS * COLS);
  const at = img.indexOf(1);
  expect(img.reduce((a, v) => a + v, 0)).toBe(1);
  return { x: at % COLS, y: Math.floor(at / COLS) };
}

describe('epoch order and steps', () => {
  it('epochPermutation is a deterministic permutation that changes per epoch', () => {
    const p = epochPermutation(500, 1, 0);
    expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: 500 }, (_, i) => i));
    expect(epochPermutation(500, 1, 0)).toEqual(p);
    expect(epochPermutation(500, 1, 1)).not.toEqual(p);
  });

  it('stepsPerEpoch drops the last partial batch', () => {
    expect(stepsPerEpoch(60000, 128)).toBe(468);
    expect(stepsPerEpoch(256, 128)).toBe(2);
    expect(() => stepsPerEpoch(100, 128)).toThrow(expect.objectContaining({ code: 'DATA_BATCH' }));
  });

  it('globalBatchIndices returns consecutive slices of the permutation', () => {
    const perm = epochPermutation(10, 9, 0);
    expect(Array.from(globalBatchIndices(perm, 1, 4))).toEqual(Array.from(perm.slice(4, 8)));
    expect(() => globalBatchIndices(perm, 2, 4)).toThrow(expect.objectContaining({ code: 'DATA_BATCH' }));
  });
});

describe('splitBatch', () => {
  it('gives the extra examples to the earlier parts: 128 over 3 is 43,43,42', () => {
    const parts = splitBatch(Int32Array.from({ length: 128 }, (_, i) => i), 3);
    expect(parts.map((p) => p.length)).toEqual([43, 43, 42]);
    expect(parts[1][0]).toBe(43);
    expect(parts[2][41]).toBe(127);
  });

  it('splits evenly when it can and accepts plain arrays', () => {
    expect(splitBatch([1, 2, 3, 4], 2).map((p) => Array.from(p))).toEqual([[1, 2], [3, 4]]);
  });

  it('leaves later parts empty when there are more parts than indices', () => {
    expect(splitBatch([7, 8], 3).map((p) => p.length)).toEqual([1, 1, 0]);
  });
});

describe('gatherBatch', () => {
  it('copies the chosen examples scaled to [0,1] with their labels', () => {
    const split = dotSplit(4);
    split.images[2 * ROWS * COLS] = 51;
    const { images, labels } = gatherBatch(split, [2, 1]);
    expect(images.length).toBe(2 * ROWS * COLS);
    expect(Array.from(labels)).toEqual([2, 1]);
    expect(images[0]).toBeCloseTo(0.2, 6);
    expect(brightPixel(images, 1)).toEqual({ x: 4, y: 4 });
    expect(Math.max(...images)).toBe(1);
  });

  it('moves a single bright pixel by exactly the augmentation shift', () => {
    const split = dotSplit(40);
    const seed = 123;
    const indices = Array.from({ length: 40 }, (_, i) => i);
    const { images } = gatherBatch(split, indices, { augment: { maxShift: 2, seed } });
    const shifts = new Set<string>();
    for (const i of indices) {
      const { dx, dy } = augmentShift(seed, i, 2);
      expect(Math.abs(dx) <= 2 && Math.abs(dy) <= 2).toBe(true);
      shifts.add(`${dx},${dy}`);
      expect(brightPixel(images, i)).toEqual({ x: 3 + (i % 2) + dx, y: 4 + dy });
    }
    expect(shifts.size).toBeGreaterThan(5);
  });

  it('fills pixels shifted in from outside with zero', () => {
    const white = new Uint8Array(ROWS * COLS).fill(255);
    const split: Split = { images: white, labels: Uint8Array.of(0), count: 1, rows: ROWS, cols: COLS };
    const seed = Array.from({ length: 100 }, (_, s) => s).find((s) => augmentShift(s, 0, 3).dx !== 0)!;
    const { dx } = augmentShift(seed, 0, 3);
    const { images } = gatherBatch(split, [0], { augment: { maxShift: 3, seed } });
    const zeroCol = dx > 0 ? 0 : COLS - 1;
    for (let y = 0; y < ROWS; y++) expect(images[y * COLS + zeroCol]).toBe(0);
    expect(images.filter((v) => v === 0).length).toBeGreaterThanOrEqual(Math.abs(dx) * ROWS);
  });

  it('gives an example the same shift whatever batch or worker gathers it', () => {
    const split = dotSplit(20);
    const augment = { maxShift: 2, seed: 77 };
    const whole = gatherBatch(split, [5, 9, 13], { augment }).images;
    const alone = gatherBatch(split, [13], { augment }).images;
    expect(alone).toEqual(whole.subarray(2 * ROWS * COLS));
  });

  it('rejects an index outside the split', () => {
    expect(() => gatherBatch(dotSplit(3), [3])).toThrow(expect.objectContaining({ code: 'DATA_BATCH' }));
  });
});

describe('classes', () => {
  it('filterClasses keeps the listed classes, relabelled in the order given', () => {
    const split = dotSplit(30);
    const kept = filterClasses(split, [7, 2]);
    expect(kept.count).toBe(6);
    expect(Array.from(kept.labels)).toEqual([1, 0, 1, 0, 1, 0]);
    const pixels = ROWS * COLS;
    expect(kept.images.subarray(0, pixels)).toEqual(split.images.subarray(2 * pixels, 3 * pixels));
  });

  it('filterClasses rejects a list that keeps nothing', () => {
    expect(() => filterClasses(dotSplit(5), [8])).toThrow(expect.objectContaining({ code: 'DATA_EMPTY' }));
  });

  it('parseClassList reads ranges, lists and mixes', () => {
    expect(parseClassList('5-9')).toEqual([5, 6, 7, 8, 9]);
    expect(parseClassList('0,2,4')).toEqual([0, 2, 4]);
    expect(parseClassList(' 3, 0-1 ')).toEqual([3, 0, 1]);
  });

  it('parseClassList rejects malformed, out-of-range and repeated ids', () => {
    for (const bad of ['', '5-', 'a', '9-5', '3,3', '10', '0-10']) {
      expect(() => parseClassList(bad), bad).toThrow(expect.objectContaining({ code: 'DATA_CLASS_LIST' }));
    }
  });
});

import { describe, expect, it } from 'vitest';
import type { Split } from '../../src/data/types.js';
import { splitValidation, validationCount } from '../../src/data/validationSplit.js';

/** A split whose example i has every pixel and its label equal to i mod 256 / mod 10. */
function numberedSplit(count: number): Split {
  const rows = 2;
  const cols = 2;
  const images = new Uint8Array(count * rows * cols).map((_, p) => Math.floor(p / (rows * cols)) % 256);
  const labels = Uint8Array.from({ length: count }, (_, i) => i % 10);
  return { images, labels, count, rows, cols };
}

describe('validationCount', () => {
  it('reads a value below 1 as a fraction (at least one example) and a whole number as a count', () => {
    expect(validationCount(0.1, 1000)).toBe(100);
    expect(validationCount(0.001, 10)).toBe(1);
    expect(validationCount(64, 256)).toBe(64);
  });

  it('refuses a split that leaves nothing to train on, or a count that is not whole', () => {
    expect(() => validationCount(256, 256)).toThrow(/--val-split 256 holds out 256 of the 256 training examples, leaving none to train on/);
    expect(() => validationCount(2.5, 256)).toThrow(/--val-split must be a fraction in \(0, 1\) or a whole number of examples, got 2.5/);
    expect(() => validationCount(-0.1, 256)).toThrow(/--val-split/);
  });
});

describe('splitValidation', () => {
  const split = numberedSplit(200);

  it('holds out a disjoint set, the rest left to train on, together every example once', () => {
    const { trainIndices, validation } = splitValidation(split, 0.25, 1);
    expect(validation.count).toBe(50);
    expect(trainIndices.length).toBe(150);
    const heldOut = Array.from({ length: validation.count }, (_, k) => validation.images[k * 4]);
    const all = [...heldOut, ...trainIndices].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect([...trainIndices]).toEqual([...trainIndices].sort((a, b) => a - b));
  });

  it('copies the held-out examples with their labels', () => {
    const { validation } = splitValidation(split, 10, 3);
    for (let k = 0; k < validation.count; k++) {
      const example = validation.images[k * 4];
      expect([...validation.images.subarray(k * 4, k * 4 + 4)]).toEqual([example, example, example, example]);
      expect(validation.labels[k]).toBe(example % 10);
    }
  });

  it('follows the seed: the same seed holds out the same examples, another seed others', () => {
    const again = (seed: number) => [...splitValidation(split, 0.2, seed).trainIndices];
    expect(again(5)).toEqual(again(5));
    expect(again(6)).not.toEqual(again(5));
    // Not simply the first or last examples (Keras takes the last ones).
    expect(again(5)).not.toEqual(Array.from({ length: 160 }, (_, i) => i));
    expect(again(5)).not.toEqual(Array.from({ length: 160 }, (_, i) => i + 40));
  });
});

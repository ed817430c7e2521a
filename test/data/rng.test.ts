import { describe, expect, it } from 'vitest';
import { createRng, epochSeed, seededPermutation } from '../../src/data/rng.js';

describe('createRng', () => {
  it('repeats its sequence for the same seed and differs for another', () => {
    const draw = (seed: number): number[] => {
      const rng = createRng(seed);
      return Array.from({ length: 5 }, () => rng.next());
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
  });

  it('stays in [0,1) and nextInt(n) in 0..n-1, covering every value', () => {
    const rng = createRng(1);
    const seen = new Set<number>();
    for (let i = 0; i < 10000; i++) {
      const x = rng.next();
      expect(x >= 0 && x < 1).toBe(true);
      seen.add(rng.nextInt(7));
    }
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });
});

describe('seededPermutation', () => {
  it('is a permutation of 0..n-1', () => {
    const perm = seededPermutation(1000, 42);
    expect(Array.from(perm).sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });

  it('is deterministic in the seed and changes with it', () => {
    expect(seededPermutation(100, 3)).toEqual(seededPermutation(100, 3));
    expect(seededPermutation(100, 3)).not.toEqual(seededPermutation(100, 4));
  });

  it('handles sizes 0 and 1', () => {
    expect(Array.from(seededPermutation(0, 1))).toEqual([]);
    expect(Array.from(seededPermutation(1, 1))).toEqual([0]);
  });
});

describe('epochSeed', () => {
  it('is deterministic and distinct across epochs and seeds', () => {
    expect(epochSeed(5, 2)).toBe(epochSeed(5, 2));
    const seeds = new Set<number>();
    for (let s = 0; s < 10; s++) for (let e = 0; e < 10; e++) seeds.add(epochSeed(s, e));
    expect(seeds.size).toBe(100);
  });
});

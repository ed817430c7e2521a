import { describe, expect, it } from 'vitest';
import { clipByGlobalNorm, findNonFiniteValue, firstNonFinite, globalNorm, lowerMedian } from '../../src/numerics/vectors.js';

/** The norm written out the long way: every value squared, in float64, over all tensors. */
function naiveNorm(tensors: number[][]): number {
  return Math.sqrt(tensors.flat().reduce((s, v) => s + v * v, 0));
}

const map = (tensors: number[][]) => new Map(tensors.map((t, i) => [`t${i}`, Float32Array.from(t)]));

describe('globalNorm', () => {
  it('matches a naive float64 norm over all tensors together', () => {
    const tensors = [[3, -4], [1, 2, 2], [0.5]];
    expect(globalNorm(map(tensors))).toBeCloseTo(naiveNorm(tensors), 12);
  });

  it('does not overflow where float32 squares would: 1e30 has norm 1e30', () => {
    expect(globalNorm(map([[1e30, 0]]))).toBeCloseTo(1e30, -24);
  });
});

describe('clipByGlobalNorm (torch.nn.utils.clip_grad_norm_)', () => {
  it('scales every tensor by maxNorm / (norm + 1e-6) when the norm is above maxNorm', () => {
    const tensors = [[3, 0], [0, 4]];
    const { gradients, norm, scale } = clipByGlobalNorm(map(tensors), 1);
    expect(norm).toBeCloseTo(5, 12);
    expect(scale).toBeCloseTo(1 / (5 + 1e-6), 12);
    expect(gradients.get('t0')![0]).toBeCloseTo(3 / 5, 6);
    expect(gradients.get('t1')![1]).toBeCloseTo(4 / 5, 6);
    expect(globalNorm(gradients)).toBeCloseTo(1, 5);
  });

  it('leaves gradients within the limit untouched, and never changes its input', () => {
    const input = map([[0.3, 0.4]]);
    const { gradients, scale } = clipByGlobalNorm(input, 1);
    expect(scale).toBe(1);
    expect([...gradients.get('t0')!]).toEqual([...input.get('t0')!]);
    clipByGlobalNorm(input, 0.1);
    expect(input.get('t0')![0]).toBeCloseTo(0.3, 7);
  });

  it('refuses a limit that is not a positive finite number', () => {
    expect(() => clipByGlobalNorm(map([[1]]), 0)).toThrow(/maxNorm must be a positive finite number, got 0/);
  });
});

describe('non-finite search', () => {
  it('finds the first NaN or Infinity by tensor and index', () => {
    expect(firstNonFinite([1, 2, Number.NaN, Number.POSITIVE_INFINITY])).toBe(2);
    expect(firstNonFinite([1, 2])).toBe(-1);
    expect(findNonFiniteValue(map([[1], [0, Number.NEGATIVE_INFINITY]]))).toEqual({ name: 't1', index: 1, value: Number.NEGATIVE_INFINITY });
    expect(findNonFiniteValue(map([[1], [2]]))).toBeNull();
  });
});

describe('lowerMedian', () => {
  it('is the middle value, the lower middle one for an even count', () => {
    expect(lowerMedian([5, 1, 3])).toBe(3);
    expect(lowerMedian([4, 1, 1e30, 2])).toBe(2);
    expect(lowerMedian([])).toBeNaN();
  });
});

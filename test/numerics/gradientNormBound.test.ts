import { describe, expect, it } from 'vitest';
import { GradientNormBound } from '../../src/numerics/gradientNormBound.js';

const options = { factor: 10, window: 5, warmup: 3 };

describe('GradientNormBound', () => {
  it('during the warm-up accepts any finite norm, and never a non-finite one', () => {
    const bound = new GradientNormBound(options);
    expect(bound.admit(1).ok).toBe(true);
    expect(bound.admit(1000).ok).toBe(true);
    expect(bound.admit(Number.POSITIVE_INFINITY).ok).toBe(false);
    expect(bound.limit()).toBeUndefined();
  });

  it('after the warm-up refuses a norm above factor × the median of accepted norms, naming both numbers', () => {
    const bound = new GradientNormBound(options, [1, 2, 3]);
    expect(bound.limit()).toBe(20);
    expect(bound.check(19).ok).toBe(true);
    const verdict = bound.check(1e30);
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) expect(verdict.reason).toBe('gradient norm 1.000e+30 is above the bound 20.00 (10 × the median 2.000 of the last 3 accepted)');
  });

  it('refused norms do not enter the window, so repeated huge contributions cannot raise the bound', () => {
    const bound = new GradientNormBound(options, [1, 1, 1]);
    for (let i = 0; i < 20; i++) expect(bound.admit(1e6).ok).toBe(false);
    expect(bound.limit()).toBe(10);
  });

  it('a minority of large accepted norms does not move the median', () => {
    const bound = new GradientNormBound(options, [1, 1, 1]);
    bound.admit(9);
    bound.admit(9);
    expect(bound.median()).toBe(1);
  });

  it('follows honest norms as they fall, over its window', () => {
    const bound = new GradientNormBound(options, [4, 4, 4]);
    for (const n of [0.5, 0.5, 0.5, 0.5, 0.5]) expect(bound.admit(n).ok).toBe(true);
    expect(bound.limit()).toBe(5);
    expect(bound.check(6).ok).toBe(false);
  });

  it('refuses options that would disable it silently', () => {
    expect(() => new GradientNormBound({ factor: 1, window: 5, warmup: 3 })).toThrow(/factor must be a finite number above 1/);
    expect(() => new GradientNormBound({ factor: 10, window: 2, warmup: 3 })).toThrow(/warmup must be an integer from 1 to the window/);
  });
});

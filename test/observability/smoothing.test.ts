// The curves' smoothing (src/browser/smoothing.js, a browser script, run here in a VM context):
// a debiased exponential moving average, checked against its definition as a weighted mean.
import { readFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { SMOOTHING_JS_FILE } from '../../src/browser/sharedAssets.js';

const page = runInNewContext(`${readFileSync(SMOOTHING_JS_FILE, 'utf8')}\n({ debiasedEma, DEFAULT_SMOOTHING, DebiasedEma })`) as {
  debiasedEma(values: number[], weight: number): number[];
  DEFAULT_SMOOTHING: number;
};

/** Point t is the mean of points 0..t weighted by weight^(t-i): the EMA with its bias removed. */
function weightedMeanReference(values: number[], weight: number): number[] {
  return values.map((_, t) => {
    let num = 0;
    let den = 0;
    for (let i = 0; i <= t; i++) {
      num += weight ** (t - i) * values[i];
      den += weight ** (t - i);
    }
    return num / den;
  });
}

describe('debiasedEma', () => {
  it('defaults to TensorBoard\'s weight, 0.6', () => {
    expect(page.DEFAULT_SMOOTHING).toBe(0.6);
  });

  it('equals the weighted mean of the points so far', () => {
    let seed = 3;
    const values = Array.from({ length: 200 }, () => (seed = (seed * 16807) % 2147483647) / 2147483647);
    for (const weight of [0.3, 0.6, 0.9, 0.99]) {
      const smoothed = page.debiasedEma(values, weight);
      weightedMeanReference(values, weight).forEach((expected, i) => expect(smoothed[i]).toBeCloseTo(expected, 10));
    }
  });

  it('has no start-up bias: a constant curve stays constant from its first point', () => {
    expect(page.debiasedEma([2.3, 2.3, 2.3, 2.3], 0.9).every((v) => Math.abs(v - 2.3) < 1e-12)).toBe(true);
  });

  it('follows a falling loss closer than a plain EMA started at the first value', () => {
    const loss = Array.from({ length: 50 }, (_, i) => 2.3 * Math.exp(-i / 10));
    let plain = loss[0];
    const plainEma = loss.map((v) => (plain = 0.9 * plain + 0.1 * v));
    const smoothed = page.debiasedEma(loss, 0.9);
    const error = (curve: number[]) => curve.reduce((s, v, i) => s + Math.abs(v - loss[i]), 0);
    expect(error(smoothed)).toBeLessThan(error(plainEma));
  });

  it('is the identity at weight 0 and lets non-finite points through without spoiling the rest', () => {
    expect(page.debiasedEma([1, 5, 3], 0)).toEqual([1, 5, 3]);
    const withGap = page.debiasedEma([1, NaN, 1], 0.5);
    expect(withGap[1]).toBeNaN();
    expect(withGap[2]).toBeCloseTo(1, 12);
  });
});

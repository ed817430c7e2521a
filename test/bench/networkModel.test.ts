import { describe, expect, it } from 'vitest';
import { fitStepModel, predictStepMs, transferMs, type NetworkPoint } from '../../bench/networkModel.js';

describe('the network step-time model', () => {
  it('takes bytes ÷ bandwidth as the transfer time, and nothing on an unlimited link', () => {
    expect(transferMs({ bytesPerStep: 1_250_000, rateMbit: 100 })).toBeCloseTo(100, 9);
    expect(transferMs({ bytesPerStep: 1_250_000 })).toBe(0);
  });

  it('recovers the constants of points made from a known model, noise-free', () => {
    const truth = { baseMs: 120, roundTrips: 3, serialShare: 0.8 };
    const points: NetworkPoint[] = [];
    for (const rttMs of [0, 10, 20, 50]) for (const rateMbit of [undefined, 1000, 100, 20]) {
      const point = { rttMs, rateMbit, bytesPerStep: 400_000 + 1000 * rttMs };
      points.push({ ...point, stepMs: predictStepMs(truth, point) });
    }
    const fitted = fitStepModel(points);
    expect(fitted.baseMs).toBeCloseTo(truth.baseMs, 6);
    expect(fitted.roundTrips).toBeCloseTo(truth.roundTrips, 6);
    expect(fitted.serialShare).toBeCloseTo(truth.serialShare, 6);
  });

  it('refuses runs that vary only one thing, naming what to vary', () => {
    const points = [0, 10, 20].map((rttMs) => ({ rttMs, bytesPerStep: 1000, stepMs: 100 + rttMs }));
    expect(() => fitStepModel(points)).toThrow(/vary both the RTT and the bandwidth/);
  });
});

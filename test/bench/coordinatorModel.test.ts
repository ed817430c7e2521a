import { describe, expect, it } from 'vitest';
import { coordinatorStepCost, fitLine } from '../../bench/coordinatorModel.js';

describe('fitLine', () => {
  it('recovers a line exactly and matches the normal equations on noisy points', () => {
    expect(fitLine([1, 2, 4, 8].map((x) => ({ x, y: 3 + 0.5 * x })))).toEqual({ a: 3, b: 0.5 });
    const points = [
      { x: 1, y: 2 },
      { x: 2, y: 2.9 },
      { x: 4, y: 5.2 },
      { x: 8, y: 8.8 },
    ];
    // Naive reference: solve [n Σx; Σx Σx²] [a b]ᵀ = [Σy Σxy]ᵀ by Cramer's rule.
    const n = points.length;
    const sx = points.reduce((s, p) => s + p.x, 0);
    const sy = points.reduce((s, p) => s + p.y, 0);
    const sxx = points.reduce((s, p) => s + p.x * p.x, 0);
    const sxy = points.reduce((s, p) => s + p.x * p.y, 0);
    const det = n * sxx - sx * sx;
    const fit = fitLine(points);
    expect(fit.a).toBeCloseTo((sy * sxx - sx * sxy) / det, 12);
    expect(fit.b).toBeCloseTo((n * sxy - sx * sy) / det, 12);
  });

  it('refuses a single x value', () => {
    expect(() => fitLine([{ x: 2, y: 1 }, { x: 2, y: 3 }])).toThrow(/two distinct x/);
  });
});

describe('coordinatorStepCost', () => {
  it("counts 2 · bytes · N / bandwidth for the link, as the issue's model, and a + b·N for the CPU", () => {
    // The example: 64 workers, DSDC-Net float32 (146 kB each way) on 10 GbE ≈ 15 ms.
    const cost = coordinatorStepCost({ fit: { a: 2, b: 0.25 }, frameBytes: 146_000, members: 64, linkBitsPerSecond: 10e9 });
    expect(cost.linkMs).toBeCloseTo((2 * 146_000 * 64 * 8 * 1000) / 10e9, 9);
    expect(cost.linkMs).toBeGreaterThan(14);
    expect(cost.linkMs).toBeLessThan(16);
    expect(cost.cpuMs).toBe(18);
    expect(cost.dominant).toBe('cpu');
    expect(coordinatorStepCost({ fit: { a: 2, b: 0.1 }, frameBytes: 146_000, members: 64, linkBitsPerSecond: 10e9 }).dominant).toBe('link');
  });

  it('halves the link term when in and out overlap on a full-duplex link', () => {
    const base = { fit: { a: 0, b: 0 }, frameBytes: 1000, members: 10, linkBitsPerSecond: 1e9 };
    expect(coordinatorStepCost({ ...base, serialInOut: false }).linkMs).toBeCloseTo(coordinatorStepCost(base).linkMs / 2, 12);
  });
});

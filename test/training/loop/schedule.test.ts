import { describe, expect, it } from 'vitest';
import { learningRateAt } from '../../../src/training/loop/schedule.js';

describe('learningRateAt', () => {
  it('cosine starts at the base rate, halves midway and ends near zero', () => {
    const o = { kind: 'cosine' as const, baseRate: 1e-3, totalSteps: 100, warmupSteps: 0 };
    expect(learningRateAt(0, o)).toBeCloseTo(1e-3, 12);
    expect(learningRateAt(50, o)).toBeCloseTo(5e-4, 12);
    expect(learningRateAt(100, o)).toBeCloseTo(0, 12);
  });

  it('warms up linearly, then follows the schedule', () => {
    const o = { kind: 'constant' as const, baseRate: 1e-2, totalSteps: 100, warmupSteps: 4 };
    expect([0, 1, 2, 3, 4, 50].map((s) => learningRateAt(s, o))).toEqual([2.5e-3, 5e-3, 7.5e-3, 1e-2, 1e-2, 1e-2]);
  });
});

import { describe, expect, it } from 'vitest';
import { ContributionChecks, type CheckedContribution } from '../../src/coordinator/contributionChecks.js';

const MEAN = 'bn/moving_mean';
const VAR = 'bn/moving_variance';
const running = new Map([[MEAN, Float32Array.from([0])], [VAR, Float32Array.from([1])]]);

function checks(): ContributionChecks {
  return new ContributionChecks({ normBound: { factor: 10, window: 8, warmup: 2 }, runningStatistics: () => running, bnMomentum: 0.9, referenceNorms: [1, 1] });
}

function part(gradient: number, statistics: [number, number], step = 20): CheckedContribution {
  return {
    step,
    loss: 2.3,
    correct: 3,
    exampleCount: 16,
    gradients: new Map([['w', Float32Array.from([gradient])]]),
    movingStatistics: new Map([[MEAN, Float32Array.from([statistics[0]])], [VAR, Float32Array.from([statistics[1]])]]),
  };
}

describe('ContributionChecks.admit', () => {
  it('admits an honest part: a norm near the reference, statistics one moving-average step away', () => {
    expect(checks().admit(part(2, [0.05, 0.95]))).toBeNull();
  });

  it('at the warm start (step 0) admits statistics that replace the initial ones entirely', () => {
    expect(checks().admit(part(2, [0.3, 0.001], 0))).toBeNull();
  });

  it('the same statistics after the warm start are refused: a moving variance cannot fall that fast', () => {
    expect(checks().admit(part(2, [0.3, 0.001], 20))).toMatch(/^batch-norm statistic bn\/moving_variance\[0\] fell from 1.000 to 0.001000 in one step/);
  });

  it('refuses a norm above the bound, and a refused norm does not raise the bound', () => {
    const c = checks();
    expect(c.admit(part(1e30, [0, 1]))).toMatch(/^gradient norm 1.000e\+30 is above the bound 10.00/);
    expect(c.normLimit()).toBe(10);
  });

  it('refuses impossible claims before looking at the numbers', () => {
    expect(checks().admit({ ...part(1e30, [0, -1]), correct: 17 })).toMatch(/^impossible claim: correct is 17/);
  });

  it('without a bound, only claims and statistics are checked', () => {
    const unbounded = new ContributionChecks({ normBound: null, runningStatistics: () => running, bnMomentum: 0.9 });
    expect(unbounded.admit(part(1e30, [0, 1]))).toBeNull();
    expect(unbounded.normLimit()).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { checkMovingStatistics, impliedBatchValue, movingAverageDecay } from '../../src/numerics/movingStatistics.js';

const MEAN = 'bn/moving_mean';
const VAR = 'bn/moving_variance';

/** Per-channel mean and (biased) variance of `rows`, written out plainly. */
function naiveBatchStatistics(rows: number[][]): { mean: number[]; variance: number[] } {
  const channels = rows[0].length;
  const mean = Array.from({ length: channels }, (_, c) => rows.reduce((s, r) => s + r[c], 0) / rows.length);
  const variance = mean.map((m, c) => rows.reduce((s, r) => s + (r[c] - m) ** 2, 0) / rows.length);
  return { mean, variance };
}

function stats(mean: number[], variance: number[]) {
  return new Map([
    [MEAN, Float32Array.from(mean)],
    [VAR, Float32Array.from(variance)],
  ]);
}

/** One moving-average update of `running` by a batch, as a batch-norm layer does it. */
function updated(running: Map<string, Float32Array>, batch: { mean: number[]; variance: number[] }, decay: number) {
  const move = (old: Float32Array, b: number[]) => old.map((o, i) => o + decay * (b[i] - o));
  return new Map([
    [MEAN, move(running.get(MEAN)!, batch.mean)],
    [VAR, move(running.get(VAR)!, batch.variance)],
  ]);
}

let seed = 7;
const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
const rows = Array.from({ length: 64 }, () => [0.3 + 0.1 * random(), 5 + 2 * random(), 0.001 * random()]);
const batch = naiveBatchStatistics(rows);

describe('movingAverageDecay', () => {
  it('is a cumulative average during the warm start, then 1 − momentum', () => {
    expect(movingAverageDecay(0.99, 0)).toBe(1);
    expect(movingAverageDecay(0.99, 3)).toBe(0.25);
    expect(movingAverageDecay(0.99, 1000)).toBeCloseTo(0.01, 12);
  });
});

describe('impliedBatchValue', () => {
  it('recovers the batch value a moving-average update mixed in', () => {
    expect(impliedBatchValue(2, 2 + 0.1 * (7 - 2), 0.1)).toBeCloseTo(7, 12);
  });
});

describe('checkMovingStatistics', () => {
  const running = stats([0.25, 4, 0], [0.02, 3, 1e-6]);

  it('accepts an honest update, at the warm start and with momentum', () => {
    expect(checkMovingStatistics(updated(stats([0, 0, 0], [1, 1, 1]), batch, 1), stats([0, 0, 0], [1, 1, 1]), 1)).toBeNull();
    expect(checkMovingStatistics(updated(running, batch, 0.1), running, 0.1)).toBeNull();
    expect(checkMovingStatistics(updated(running, batch, 0.01), running, 0.01)).toBeNull();
  });

  it('refuses a negative moving variance (the poisoned -1)', () => {
    const poisoned = updated(running, batch, 0.1);
    poisoned.get(VAR)![1] = -1;
    expect(checkMovingStatistics(poisoned, running, 0.1)).toMatch(/bn\/moving_variance\[1\] is -1; a variance must be positive/);
  });

  it('refuses a moving mean of 1e4 when the running one is near 4 with variance 3', () => {
    const poisoned = updated(running, batch, 0.1);
    poisoned.get(MEAN)![1] = 1e4;
    expect(checkMovingStatistics(poisoned, running, 0.1)).toMatch(/bn\/moving_mean\[1\] moved from 4.000 to 1.000e\+4 in one step: a batch mean over 50 standard deviations/);
  });

  it('refuses a variance that shrinks faster than the decay allows (an implied negative batch variance)', () => {
    const poisoned = updated(running, batch, 0.1);
    poisoned.get(VAR)![1] = 3 * 0.5;
    expect(checkMovingStatistics(poisoned, running, 0.1)).toMatch(/fell from 3.000 to 1.500 in one step, faster than a moving average with decay 0.100 can/);
  });

  it('refuses a variance that grows by more than the bound in one step', () => {
    const poisoned = updated(running, batch, 0.1);
    poisoned.get(VAR)![0] = 1e6;
    expect(checkMovingStatistics(poisoned, running, 0.1)).toMatch(/bn\/moving_variance\[0\] rose from 0.02000 to 1.000e\+6/);
  });

  it('without running statistics checks only finiteness and positive variances', () => {
    expect(checkMovingStatistics(stats([1e4], [1e9]), new Map())).toBeNull();
    expect(checkMovingStatistics(stats([Number.NaN], [1]), new Map())).toMatch(/bn\/moving_mean\[0\] is NaN/);
    expect(checkMovingStatistics(stats([0], [0]), new Map())).toMatch(/variance must be positive/);
  });
});

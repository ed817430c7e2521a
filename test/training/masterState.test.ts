import { describe, expect, it } from 'vitest';
import { globalNorm } from '../../src/numerics/vectors.js';
import type { StepContribution } from '../../src/training/optimizer/aggregate.js';
import { MasterState } from '../../src/training/optimizer/masterState.js';

const W = 'dense/kernel';
const MEAN = 'bn/moving_mean';
const VAR = 'bn/moving_variance';

function fresh(): MasterState {
  const weights = new Map([
    [W, Float32Array.from([0.5, -0.5, 0.25])],
    [MEAN, Float32Array.from([0])],
    [VAR, Float32Array.from([1])],
  ]);
  const shapes = new Map([[W, [3]], [MEAN, [1]], [VAR, [1]]]);
  return MasterState.fresh(weights, shapes, [W], [MEAN, VAR]);
}

function contribution(gradient: number[], variance = 0.5): StepContribution {
  return {
    count: 8,
    loss: 1,
    correct: 4,
    gradients: new Map([[W, Float32Array.from(gradient)]]),
    movingStatistics: new Map([[MEAN, Float32Array.from([0.1])], [VAR, Float32Array.from([variance])]]),
  };
}

describe('MasterState.apply', () => {
  it('applies an ordinary step: weights and statistics change, the version goes up', () => {
    const state = fresh();
    const applied = state.apply(contribution([0.1, 0.2, 0.3]), 1e-2);
    expect(applied.refused).toBeUndefined();
    expect(applied.changed).toEqual([W, MEAN, VAR]);
    expect(state.weights.get(VAR)![0]).toBe(0.5);
    expect(state.weightsVersion).toBe(1);
  });

  it('refuses a step whose update would overflow Adam, changing nothing, statistics included', () => {
    const state = fresh();
    const applied = state.apply(contribution([1e30, 0, 0]), 1e-2);
    expect(applied.changed).toEqual([]);
    expect(applied.refused).toMatch(/Adam state "adam\/v\/dense\/kernel"\[0\] would become Infinity/);
    expect([...state.weights.get(W)!]).toEqual([0.5, -0.5, 0.25]);
    expect(state.weights.get(VAR)![0]).toBe(1);
    expect(state.adam.step).toBe(0);
    expect(state.weightsVersion).toBe(0);
  });

  it('refuses a step whose batch-norm variance is not positive', () => {
    const state = fresh();
    const applied = state.apply(contribution([0.1, 0.1, 0.1], -1), 1e-2);
    expect(applied.refused).toMatch(/bn\/moving_variance\[0\] is -1; a variance must be positive/);
    expect(state.weights.get(VAR)![0]).toBe(1);
  });

  it('with maxGradNorm, Adam sees the gradient clipped to that global norm (the same step as a hand-clipped gradient)', () => {
    const big = [30, 40, 0];
    const clipped = fresh();
    const applied = clipped.apply(contribution(big), 1e-2, { maxGradNorm: 1 });
    expect(applied.clipped?.norm).toBeCloseTo(50, 6);
    const byHand = fresh();
    const scale = 1 / (50 + 1e-6);
    byHand.apply(contribution(big.map((g) => g * scale)), 1e-2);
    expect([...clipped.adam.secondMoment.get(W)!]).toEqual([...byHand.adam.secondMoment.get(W)!]);
    expect(globalNorm(new Map([[W, clipped.adam.firstMoment.get(W)!.map((m) => m / 0.1)]]))).toBeCloseTo(1, 5);
  });

  it('without maxGradNorm nothing is clipped', () => {
    expect(fresh().apply(contribution([30, 40, 0]), 1e-2).clipped).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { combineContributions, type StepContribution } from '../../../src/training/optimizer/aggregate.js';

function contribution(count: number, loss: number, gradient: number[], mean: number[]): StepContribution {
  return {
    count,
    loss,
    correct: Math.floor(count / 2),
    gradients: new Map([['w', Float32Array.from(gradient)]]),
    movingStatistics: new Map([['bn/moving_mean', Float32Array.from(mean)]]),
  };
}

describe('combineContributions', () => {
  it('weights every mean by its example count (43/43/42 split of 128)', () => {
    const parts = [contribution(43, 1.0, [1, 2], [0.1]), contribution(43, 2.0, [3, -2], [0.2]), contribution(42, 4.0, [0, 5], [0.4])];
    const combined = combineContributions(parts);
    const naive = (f: (p: StepContribution) => number) => parts.reduce((s, p) => s + p.count * f(p), 0) / 128;
    expect(combined.count).toBe(128);
    expect(combined.correct).toBe(21 + 21 + 21);
    expect(combined.loss).toBeCloseTo(naive((p) => p.loss), 10);
    expect(combined.gradients.get('w')![0]).toBeCloseTo(naive((p) => p.gradients.get('w')![0]), 6);
    expect(combined.gradients.get('w')![1]).toBeCloseTo(naive((p) => p.gradients.get('w')![1]), 6);
    expect(combined.movingStatistics.get('bn/moving_mean')![0]).toBeCloseTo(naive((p) => p.movingStatistics.get('bn/moving_mean')![0]), 6);
  });

  it('equals the single contribution when there is one', () => {
    const only = contribution(64, 0.5, [1, 2], [0]);
    expect(combineContributions([only])).toBe(only);
  });

  it('refuses contributions that disagree on a tensor', () => {
    const bad = contribution(10, 1, [1, 2], [0]);
    bad.gradients.set('w', new Float32Array(3));
    expect(() => combineContributions([contribution(10, 1, [1, 2], [0]), bad])).toThrow(/"w"/);
  });
});

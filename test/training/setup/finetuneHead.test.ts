// A fine-tune run's new head: it starts at zero and learns at its own rate; the rest at --lr.
import { describe, expect, it } from 'vitest';
import { DEFAULT_NEW_HEAD_LEARNING_RATE, learningRateFactors, zeroHead } from '../../../src/training/setup/finetune.js';

describe('a new head', () => {
  it('starts at zero, in the shapes asked', () => {
    const head = zeroHead(new Map([['head/kernel', [128, 5]], ['head/bias', [5]]]));
    expect(head.get('head/kernel')).toEqual(new Float32Array(640));
    expect(head.get('head/bias')).toEqual(new Float32Array(5));
  });

  it('learns at --head-lr: the head\'s weights get its ratio to --lr, the others none', () => {
    const trainable = ['sdc4/pointwise_kernel', 'sdc4_bn/gamma', 'head/kernel', 'head/bias'];
    const factors = learningRateFactors({ learningRate: 1e-4, headLearningRate: DEFAULT_NEW_HEAD_LEARNING_RATE }, trainable);
    expect([...factors.keys()]).toEqual(['head/kernel', 'head/bias']);
    expect(factors.get('head/kernel')).toBeCloseTo(DEFAULT_NEW_HEAD_LEARNING_RATE / 1e-4, 9);
    expect(learningRateFactors({ learningRate: 1e-4 }, trainable).size).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import { blocksFromArgs } from '../../src/cli/trainingFlags.js';
import { DEFAULT_MODEL_SPEC } from '../../src/model/spec.js';
import { DEFAULT_TRAIN_CONFIG, validateTrainConfig } from '../../src/training/setup/config.js';

describe('architecture flags', () => {
  it('default flags give the reference blocks', () => {
    expect(blocksFromArgs({ widths: '64,64,128,128', dilations: '1,2,2,4', poolAfter: '2' })).toEqual(DEFAULT_MODEL_SPEC.blocks);
  });

  it('builds a deeper or shallower net with pooling where asked', () => {
    expect(blocksFromArgs({ widths: '16,32,32', dilations: '1,2,4', poolAfter: 'none' })).toEqual([
      { filters: 16, dilation: 1 },
      { filters: 32, dilation: 2 },
      { filters: 32, dilation: 4 },
    ]);
    expect(blocksFromArgs({ widths: '8', dilations: '3', poolAfter: '1' })).toEqual([{ filters: 8, dilation: 3, poolAfter: true }]);
  });

  it('refuses mismatched lists and bad values, naming the flag', () => {
    expect(() => blocksFromArgs({ widths: '16,32', dilations: '1,2,4', poolAfter: 'none' })).toThrow(/--widths has 2 blocks .* --dilations has 3/);
    expect(() => blocksFromArgs({ widths: '16,x', dilations: '1,2', poolAfter: 'none' })).toThrow(/--widths: 'x' is not a positive integer/);
    expect(() => blocksFromArgs({ widths: '16,32', dilations: '1,0', poolAfter: 'none' })).toThrow(/--dilations: '0'/);
    expect(() => blocksFromArgs({ widths: '16,32', dilations: '1,2', poolAfter: '3' })).toThrow(/--pool-after 3: there are only 2 blocks/);
  });
});

describe('numeric safety flags', () => {
  it('--max-grad-norm is off by default and the gradient norm bound on', () => {
    expect(DEFAULT_TRAIN_CONFIG.maxGradNorm).toBe(0);
    expect(DEFAULT_TRAIN_CONFIG.gradNormBound).toBeGreaterThan(1);
  });

  it('refuses a negative --max-grad-norm and a --grad-norm-bound of 1 or less, naming the flag', () => {
    expect(() => validateTrainConfig({ ...DEFAULT_TRAIN_CONFIG, maxGradNorm: -1 })).toThrow(/--max-grad-norm must be a non-negative number \(0: no clipping\), got -1/);
    expect(() => validateTrainConfig({ ...DEFAULT_TRAIN_CONFIG, gradNormBound: 0.5 })).toThrow(/--grad-norm-bound must be a factor above 1, or 0 for no bound, got 0.5/);
    expect(validateTrainConfig({ ...DEFAULT_TRAIN_CONFIG, gradNormBound: 0, maxGradNorm: 1 }).gradNormBound).toBe(0);
  });
});

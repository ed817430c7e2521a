// The file schemas name the field at fault and what it must be, and accept what the code writes.
import { describe, expect, it } from 'vitest';
import { describeProblem, dottedPath } from '../../src/schemas/check.js';
import { manifestValidator } from '../../src/schemas/manifest.js';
import { trainConfigValidator } from '../../src/schemas/runConfig.js';
import { runStateValidator } from '../../src/schemas/runState.js';
import { DEFAULT_TRAIN_CONFIG, validateTrainConfig } from '../../src/training/setup/config.js';

const state = (config: unknown) => ({ step: 3, position: { epoch: 0, stepInEpoch: 3, globalStep: 3 }, adamStep: 3, weightsVersion: 3, config });

describe('schemas', () => {
  it('accepts the default run config', () => {
    expect(trainConfigValidator.problem(DEFAULT_TRAIN_CONFIG)).toBeUndefined();
  });

  it('names a nested field of state.json by its dotted path', () => {
    const config = { ...DEFAULT_TRAIN_CONFIG, model: { ...DEFAULT_TRAIN_CONFIG.model, blocks: [{ filters: 8, dilation: 0 }] } };
    const problem = runStateValidator.problem(state(config))!;
    expect(problem.field).toBe('config.model.blocks[0].dilation');
    expect(describeProblem(problem)).toBe('config.model.blocks[0].dilation must be a positive integer, got 0');
  });

  it('reports a missing field as missing', () => {
    const { adamStep: _, ...rest } = state(DEFAULT_TRAIN_CONFIG);
    expect(describeProblem(runStateValidator.problem(rest)!)).toBe('adamStep must be a non-negative integer, got nothing (the field is missing)');
  });

  it('refuses a manifest entry whose name is a path', () => {
    const manifest = { formatVersion: 1, files: [{ name: '../state.json', bytes: 1, sha256: 'a'.repeat(64) }] };
    expect(manifestValidator.problem(manifest)?.field).toBe('files[0].name');
  });

  it('names the flag of a bad config field built from flags', () => {
    expect(() => validateTrainConfig({ ...DEFAULT_TRAIN_CONFIG, learningRate: 5 })).toThrow(/--learning-rate must be a positive number at most 1, got 5/);
    expect(() => validateTrainConfig({ ...DEFAULT_TRAIN_CONFIG, batchSize: 0 })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });

  it('turns a JSON pointer into a dotted path', () => {
    expect(dottedPath('/config/classes/2')).toBe('config.classes[2]');
    expect(dottedPath('')).toBe('');
  });
});

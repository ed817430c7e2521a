// What a resume says about the flags the user typed, and the flags it counts as typed.
import { describe, expect, it } from 'vitest';
import { givenFlags } from '../../src/cli/givenFlags.js';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from '../../src/training/setup/config.js';
import { explainResume } from '../../src/training/setup/resumeFlags.js';

const saved: TrainConfig = { ...DEFAULT_TRAIN_CONFIG, epochs: 2, learningRate: 0.003 };

describe('explainResume', () => {
  it('applies --epochs and ignores --lr when both were typed and differ', () => {
    const requested = { ...saved, epochs: 5, learningRate: 0.1 };
    expect(explainResume(saved, requested, new Set(['epochs', 'lr']))).toEqual({
      applied: ["--epochs 5 (the checkpoint's run had 2)"],
      ignored: ['--lr (the run keeps 0.003, not 0.1)'],
    });
  });

  it('says nothing of a default that differs from the run but was not typed', () => {
    const requested = { ...saved, learningRate: DEFAULT_TRAIN_CONFIG.learningRate };
    expect(explainResume(saved, requested, new Set())).toEqual({ applied: [], ignored: [] });
  });

  it('reports an architecture flag by its flag names', () => {
    const requested = { ...saved, model: { ...saved.model, blocks: [{ filters: 8, dilation: 1 }] } };
    expect(explainResume(saved, requested, new Set(['widths'])).ignored[0]).toMatch(/^--widths\/--dilations\/--pool-after \(the run keeps \[/);
  });
});

describe('givenFlags', () => {
  it('reads --flag value, --flag=value, --no-flag and camelCase, and stops at --', () => {
    expect([...givenFlags(['worker', '--lr', '0.1', '--max-steps=3', '--no-eval', '--batchSize', '8', '--', '--seed'])].sort()).toEqual(['batch-size', 'eval', 'lr', 'max-steps', 'no-eval']);
  });
});

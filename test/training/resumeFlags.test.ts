// What a resume says about the flags the user set (on the command line, in DSDC_* variables or a config file).
import { describe, expect, it } from 'vitest';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from '../../src/training/setup/config.js';
import { explainResume } from '../../src/training/setup/resumeFlags.js';

const saved: TrainConfig = { ...DEFAULT_TRAIN_CONFIG, epochs: 2, learningRate: 0.003 };

describe('explainResume', () => {
  it('applies --epochs and ignores --learning-rate when both were typed and differ', () => {
    const requested = { ...saved, epochs: 5, learningRate: 0.1 };
    expect(explainResume(saved, requested, new Set(['epochs', 'learning-rate']))).toEqual({
      applied: ["--epochs 5 (the checkpoint's run had 2)"],
      ignored: ['--learning-rate (the run keeps 0.003, not 0.1)'],
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

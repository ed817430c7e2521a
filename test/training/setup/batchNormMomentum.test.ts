// The batch-norm momentum a run gets when --bn-momentum is not given: from its planned steps,
// within bounds; and a resumed run keeps the one its checkpoint recorded.
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/index.js';
import { createLogger } from '../../../src/log/logger.js';
import { DEFAULT_MODEL_SPEC } from '../../../src/model/spec.js';
import { BN_HORIZON_FRACTION, BN_MOMENTUM_MAX, BN_MOMENTUM_MIN, momentumForSteps, plannedSteps, settleBatchNormMomentum } from '../../../src/training/setup/batchNormMomentum.js';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from '../../../src/training/setup/config.js';
import { prepareRun } from '../../../src/training/setup/runSetup.js';
import { tempDir } from '../../helpers/cli.js';

describe('momentumForSteps', () => {
  it('puts the moving averages\' horizon 1/(1 − μ) at a tenth of the run, between the bounds', () => {
    for (const steps of [30, 50, 100, 200, 500]) {
      const momentum = momentumForSteps(steps);
      expect(1 / (1 - momentum)).toBeCloseTo(BN_HORIZON_FRACTION * steps, 0);
    }
  });

  it('short runs get the lower bound, runs of 1,000 steps and more Keras\' 0.99', () => {
    expect([1, 5, 20].map(momentumForSteps)).toEqual([BN_MOMENTUM_MIN, BN_MOMENTUM_MIN, BN_MOMENTUM_MIN]);
    expect([1000, 7035, 1e6].map(momentumForSteps)).toEqual([BN_MOMENTUM_MAX, BN_MOMENTUM_MAX, BN_MOMENTUM_MAX]);
  });

  it('grows with the run and the last quarter of the run weighs most of the average', () => {
    let previous = 0;
    for (let steps = 1; steps <= 2000; steps += 7) {
      const momentum = momentumForSteps(steps);
      expect(momentum).toBeGreaterThanOrEqual(previous);
      previous = momentum;
      // Weight of the last quarter's batches in an exponential average: 1 − μ^(steps/4).
      if (steps >= 40 && steps <= 1000) expect(1 - momentum ** (steps / 4)).toBeGreaterThan(0.9);
    }
  });
});

describe('plannedSteps', () => {
  it('is the epochs\' steps, or --max-steps when it stops earlier', () => {
    const config = { epochs: 3, batchSize: 100, maxSteps: 0 };
    expect(plannedSteps(config, 1000)).toBe(30);
    expect(plannedSteps({ ...config, maxSteps: 7 }, 1000)).toBe(7);
    expect(plannedSteps({ ...config, maxSteps: 70 }, 1000)).toBe(30);
  });
});

describe('settleBatchNormMomentum', () => {
  const base: TrainConfig = { ...DEFAULT_TRAIN_CONFIG, epochs: 1, batchSize: 10, model: { ...DEFAULT_MODEL_SPEC, bnMomentum: 0.97 } };

  it('chooses from the planned steps when --bn-momentum was not given, and drops the marker', () => {
    const settled = settleBatchNormMomentum({ ...base, bnMomentumFromSteps: true }, 500);
    expect(settled.chosen).toEqual({ momentum: momentumForSteps(50), steps: 50 });
    expect(settled.config.model.bnMomentum).toBe(momentumForSteps(50));
    expect('bnMomentumFromSteps' in settled.config).toBe(false);
  });

  it('keeps a given momentum', () => {
    const settled = settleBatchNormMomentum(base, 500);
    expect(settled.chosen).toBeUndefined();
    expect(settled.config.model.bnMomentum).toBe(0.97);
  });
});

describe('a run that chose its momentum', () => {
  beforeAll(async () => {
    await initBackend('wasm', () => {});
  });

  it('records the number in its checkpoint, and a resume with a longer plan keeps it', async () => {
    const log = createLogger('bn-momentum-test', 'warn');
    const runDir = tempDir('bn-momentum');
    const config: TrainConfig = { ...DEFAULT_TRAIN_CONFIG, epochs: 1, batchSize: 32, trainLimit: 64, testLimit: 32, maxSteps: 2, model: { ...DEFAULT_MODEL_SPEC }, bnMomentumFromSteps: true };
    const first = await prepareRun(config, runDir, false, log);
    expect(first.config.model.bnMomentum).toBe(momentumForSteps(2));
    await first.saveCheckpoint(first.state);
    first.localModel.dispose();
    // 100 epochs of 2 steps would choose 0.95 for a new run.
    const resumed = await prepareRun({ ...config, epochs: 100, maxSteps: 0 }, runDir, true, log);
    expect(momentumForSteps(200)).toBe(0.95);
    expect(resumed.config.model.bnMomentum).toBe(momentumForSteps(2));
    expect(resumed.config.epochs).toBe(100);
    resumed.localModel.dispose();
  }, 60_000);
});

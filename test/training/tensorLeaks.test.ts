// Leak detector: training allocates and frees tensors every step, so a missed dispose shows up
// as tf.memory().numTensors growing step after step (and, on wasm, as heap growth until the
// process dies hours into a run). Checked on wasm, the default backend, for the two paths a run
// takes: the replica's step (what every worker runs) and the whole session loop (Adam, weight
// publication, checkpoints, evaluation at epoch ends).
import { ProgressReporter } from '../../src/training/loop/progress.js';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import { createRng } from '../../src/data/rng.js';
import type { Split } from '../../src/data/types.js';
import { createLogger } from '../../src/log/logger.js';
import { DEFAULT_MODEL_SPEC } from '../../src/model/spec.js';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from '../../src/training/setup/config.js';
import { LocalGradientSource } from '../../src/training/loop/localSource.js';
import { Replica } from '../../src/training/replica/replica.js';
import { prepareRun, sessionInputs } from '../../src/training/setup/runSetup.js';
import { runSession } from '../../src/training/loop/session.js';
import { tempDir } from '../helpers/cli.js';
import { splitExamples } from '../../src/data/examples.js';

const STEPS = 6;
const BATCH = 16;

/** Random grey-level images with labels 0..9: enough for a replica, no dataset needed. */
function syntheticSplit(count: number, seed: number): Split {
  const rng = createRng(seed);
  const images = Uint8Array.from({ length: count * 28 * 28 }, () => Math.floor(256 * rng.next()));
  const labels = Uint8Array.from({ length: count }, (_, i) => i % 10);
  return { images, labels, count, rows: 28, cols: 28 };
}

/** Progress output is not what these tests look at. */
const silentProgress = new ProgressReporter('none');

describe('tf.memory().numTensors stays flat across training steps on wasm', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it.each([
    ['every layer trainable', []],
    ['frozen layers (fine-tuning: no gradients, batch norm in inference mode)', ['stem_conv', 'stem_bn', 'sdc1', 'sdc1_bn']],
  ])('Replica, %s: prepare, compute and setWeights leave no tensor behind', async (_, frozenLayers) => {
    const split = syntheticSplit(STEPS * BATCH, 11);
    const replica = new Replica(DEFAULT_MODEL_SPEC, splitExamples(split), 2, frozenLayers);
    try {
      const weights = await replica.readWeights();
      const before = tf.memory().numTensors;
      const counts: number[] = [];
      for (let step = 0; step < STEPS; step++) {
        const indices = Int32Array.from({ length: BATCH }, (_, i) => step * BATCH + i);
        const contribution = await replica.compute(replica.prepare(indices, step));
        expect(Number.isFinite(contribution.loss)).toBe(true);
        // As after an optimizer step: every weight comes back, slightly changed.
        for (const values of weights.values()) values.forEach((v, i) => (values[i] = v * 0.999));
        replica.setWeights(weights);
        counts.push(tf.memory().numTensors);
      }
      expect(counts).toEqual(Array(STEPS).fill(before));
    } finally {
      replica.dispose();
    }
  });

  it('runSession: steps, checkpoints and epoch-end evaluations leave no tensor behind', async () => {
    // 3 steps per epoch over 3 epochs: evaluations after steps 3 and 6, a checkpoint every 2
    // steps, and the final evaluation and checkpoint after step 9.
    const config: TrainConfig = {
      ...DEFAULT_TRAIN_CONFIG,
      epochs: 3,
      batchSize: 32,
      trainLimit: 96,
      testLimit: 64,
      checkpointEvery: 2,
      evaluate: true,
      model: { ...DEFAULT_MODEL_SPEC },
    };
    const log = createLogger('leak-test', 'warn');
    const runDir = tempDir('leaks');
    const run = await prepareRun(config, runDir, false, log);
    const replica = new Replica(run.config.model, splitExamples(run.train), run.config.augmentShift);
    replica.setWeights(run.state.weights);
    try {
      const before = tf.memory().numTensors;
      const counts: number[] = [];
      const result = await runSession({
        ...sessionInputs(run, runDir),
        source: new LocalGradientSource(replica),
        log,
        progress: silentProgress,
        where: '1 process on wasm',
        onStep: () => counts.push(tf.memory().numTensors),
      });
      expect(result.steps).toBe(9);
      expect(result.evaluation?.accuracy).toBeGreaterThanOrEqual(0);
      expect(counts).toEqual(Array(9).fill(before));
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      replica.dispose();
      run.localModel.dispose();
    }
  });
});

// A full training step of the default DSDC-Net on wasm (with our kernels) gives the cpu
// backend's gradients, and repeated steps leak no tensors.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { buildDsdcNet } from '../../src/model/index.js';
import { computeGradients } from '../../src/training/replica/gradientStep.js';
import { trainableVariables } from '../../src/training/replica/variables.js';
import { relativeError, seeded, useBackend } from '../ops/helpers.js';

const BATCH = 2;

async function gradientsOn(backend: 'cpu' | 'wasm'): Promise<{ loss: number; gradients: Map<string, Float32Array> }> {
  await useBackend(backend);
  const model = buildDsdcNet();
  const trainable = trainableVariables(model);
  trainable.forEach((v, i) => v.variable.assign(tf.tensor(seeded(1000 + i, v.variable.size, -0.3, 0.3), v.variable.shape)));
  const x = tf.tensor4d(seeded(1, BATCH * 28 * 28, 0, 1), [BATCH, 28, 28, 1]);
  const y = tf.oneHot(tf.tensor1d(Array.from({ length: BATCH }, (_, i) => i % 10), 'int32'), 10) as tf.Tensor2D;
  const result = computeGradients(model, trainable, x, y);
  const gradients = new Map([...result.gradients].map(([name, g]) => [name, g.dataSync() as Float32Array]));
  const loss = result.loss.dataSync()[0];
  tf.dispose([x, y, result.loss, result.correct, ...result.gradients.values()]);
  model.dispose();
  return { loss, gradients };
}

describe('training step on wasm', () => {
  it('computes the same loss and gradients as the cpu backend (1e-4 relative)', async () => {
    const cpu = await gradientsOn('cpu');
    const wasm = await gradientsOn('wasm');
    expect(Math.abs(wasm.loss - cpu.loss) / cpu.loss).toBeLessThan(1e-5);
    expect([...wasm.gradients.keys()].sort()).toEqual([...cpu.gradients.keys()].sort());
    for (const [name, g] of cpu.gradients) expect(relativeError(wasm.gradients.get(name)!, g), name).toBeLessThan(1e-4);
  });

  it('does not grow tf.memory().numTensors across steps', async () => {
    await useBackend('wasm');
    const model = buildDsdcNet();
    const trainable = trainableVariables(model);
    const x = tf.tensor4d(seeded(2, 16 * 28 * 28, 0, 1), [16, 28, 28, 1]);
    const y = tf.oneHot(tf.tensor1d(Array.from({ length: 16 }, (_, i) => i % 10), 'int32'), 10) as tf.Tensor2D;
    const counts: number[] = [];
    for (let step = 0; step < 4; step++) {
      const r = computeGradients(model, trainable, x, y);
      r.loss.dataSync();
      tf.dispose([r.loss, r.correct, ...r.gradients.values()]);
      counts.push(tf.memory().numTensors);
    }
    expect(new Set(counts).size).toBe(1);
  });
});

// A small real tfjs model and Adam optimizer, on the cpu backend, for checkpoint tests.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';

export async function useCpuBackend(): Promise<void> {
  await tf.setBackend('cpu');
  await tf.ready();
}

export function denseModel(seed = 1): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.dense({ units: 5, inputShape: [4], activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed }) }),
      tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }),
    ],
  });
}

/** One optimizer step on a fixed batch, updating the model's trainable weights. */
export function trainStep(optimizer: tf.Optimizer, model: tf.LayersModel): void {
  tf.tidy(() => {
    const x = tf.tensor2d([[1, 2, 3, 4], [-1, 0.5, 2, -3]]);
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    optimizer.minimize(() => (model.apply(x) as tf.Tensor).square().mean() as tf.Scalar, false, variables);
  });
}

/** An Adam optimizer after one step on the model, so that its slots are non-trivial. */
export function adamAfterOneStep(model: tf.LayersModel): tf.Optimizer {
  const optimizer = tf.train.adam(0.01);
  trainStep(optimizer, model);
  return optimizer;
}

/** The raw bytes of a tensor's values, for bit-identical comparisons. */
export function bytesOf(t: tf.Tensor): Uint8Array {
  const values = t.dataSync() as Float32Array | Int32Array | Uint8Array;
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength).slice();
}

export async function tempDir(): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'dsdc-ckpt-'));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

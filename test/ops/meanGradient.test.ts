// Our gradient of Mean replaces tfjs's on every backend, gives the same values bit for bit as
// tfjs's formula ((dy·1)/N), and stays in place once a backend (and its copy of tfjs-core) loads.
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
// The model module registers it, as every process that builds DSDC-Net imports it.
import '../../src/model/index.js';
import { SPREAD_OVER_ROWS } from '../../src/ops/meanGradient.js';
import { TEST_BACKENDS, seeded, useBackend } from './helpers.js';

/** tfjs's own formula, written out. */
function stockMeanGradient(x: tf.Tensor, dy: tf.Tensor, axes: number[]): tf.Tensor {
  const expanded = x.shape.map((size, axis) => (axes.includes(axis) ? 1 : size));
  const n = axes.reduce((p, axis) => p * x.shape[axis], 1);
  return tf.div(tf.mul(tf.reshape(dy, expanded), tf.ones(x.shape)), n);
}

describe.each(TEST_BACKENDS)('the gradient of Mean on %s', (backend) => {
  afterAll(() => useBackend('cpu'));

  it.each([
    [[3, 5, 7, 16], [1, 2], false],
    [[2, 4, 3, 6], [-3, -2], true],
    [[4, 6], [0], false],
    [[2, 3, 5], [0, 2], true],
    [[2, 3, 5, 6], [2, 1], true],
    [[3, 2, 2, 3, 8], [1, 2, 3], false],
  ] as const)('x[%j] over %j (keepDims %s) equals tfjs\'s formula exactly', async (shape, axes, keepDims) => {
    await useBackend(backend);
    const size = shape.reduce((p: number, q: number) => p * q, 1);
    const x = tf.tensor(seeded(7, size), [...shape]);
    const weights = tf.tensor(seeded(8, tf.mean(x, [...axes], keepDims).size), tf.mean(x, [...axes], keepDims).shape);
    const gradient = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.mean(t, [...axes], keepDims), weights)))(x);
    const positive = tf.util.parseAxisParam([...axes], [...shape]);
    const expected = stockMeanGradient(x, weights, positive);
    expect(gradient.shape).toEqual([...shape]);
    expect(Array.from(await gradient.data())).toEqual(Array.from(await expected.data()));
    tf.dispose([x, weights, gradient, expected]);
  });

  it('is the one registered, after the backend has loaded', async () => {
    await useBackend(backend);
    const x = tf.ones([2, 3, 3, 4]);
    // tfjs's formula multiplies dy by ones made in JavaScript; ours spreads dy with a kernel
    // (wasm) or a backend Fill: neither runs in tfjs's.
    const profile = await tf.profile(() => tf.grad((t: tf.Tensor) => tf.sum(tf.mean(t, [1, 2])))(x));
    expect(profile.kernelNames).toContain(backend === 'wasm' ? SPREAD_OVER_ROWS : 'Fill');
    tf.dispose(x);
  });
});

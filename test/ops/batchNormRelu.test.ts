// The fused batch norm + ReLU op against the float64 reference, on the cpu and wasm backends:
// training-mode forward (output and batch statistics), gradients by central finite
// differences, and the inference mode.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { batchNormReluInference, batchNormReluTraining } from '../../src/ops/batchNormRelu.js';
import { batchNormReluRef, dot, finiteDifferenceGradient } from './reference.js';
import { TEST_BACKENDS, relativeError, seeded, useBackend } from './helpers.js';

const EPSILON = 1e-3;
// [batch, height, width, channels]; 8 channels take the SIMD path on wasm, 6 the JS one.
const shapes: Array<[number, number, number, number]> = [
  [2, 5, 6, 8],
  [3, 4, 3, 6],
];

describe.each(TEST_BACKENDS)('batchNormRelu on %s', (backend) => {
  it.each(shapes)('training forward on [%i,%i,%i,%i] gives the reference output, mean and variance', async (b, h, w, c) => {
    await useBackend(backend);
    const rows = b * h * w;
    // A large common offset checks that the variance does not suffer from cancellation.
    const x = seeded(1, rows * c, 99, 101), gamma = seeded(2, c, 0.5, 1.5), beta = seeded(3, c, -0.5, 0.5);
    const { output, mean, variance } = batchNormReluTraining(tf.tensor4d(x, [b, h, w, c]), tf.tensor1d(gamma), tf.tensor1d(beta), EPSILON);
    const ref = batchNormReluRef(x, rows, c, gamma, beta, EPSILON);
    expect(relativeError(output.dataSync(), ref.output)).toBeLessThan(1e-4);
    expect(relativeError(mean.dataSync(), ref.mean)).toBeLessThan(1e-6);
    expect(relativeError(variance.dataSync(), ref.variance)).toBeLessThan(1e-3);
    tf.dispose([output, mean, variance]);
  });

  it.each(shapes)('gradients on [%i,%i,%i,%i] match finite differences of the reference', async (b, h, w, c) => {
    await useBackend(backend);
    const rows = b * h * w;
    const x = seeded(4, rows * c, -1, 2), gamma = seeded(5, c, 0.5, 1.5), beta = seeded(6, c, -0.2, 0.2);
    const weights = seeded(7, rows * c);
    const grads = tf.tidy(() =>
      tf
        .grads((xt: tf.Tensor, gt: tf.Tensor, bt: tf.Tensor) => {
          const r = batchNormReluTraining(xt as tf.Tensor4D, gt as tf.Tensor1D, bt as tf.Tensor1D, EPSILON);
          r.mean.dispose();
          r.variance.dispose();
          return tf.sum(tf.mul(r.output, tf.tensor4d(weights, [b, h, w, c])));
        })([tf.tensor4d(x, [b, h, w, c]), tf.tensor1d(gamma), tf.tensor1d(beta)])
        .map((g) => g.dataSync()),
    );
    const loss = (xv: ArrayLike<number>, gv: ArrayLike<number>, bv: ArrayLike<number>) =>
      dot(weights, batchNormReluRef(xv, rows, c, gv, bv, EPSILON).output);
    expect(relativeError(grads[0], finiteDifferenceGradient((v) => loss(v, gamma, beta), x))).toBeLessThan(1e-3);
    expect(relativeError(grads[1], finiteDifferenceGradient((v) => loss(x, v, beta), gamma))).toBeLessThan(1e-4);
    expect(relativeError(grads[2], finiteDifferenceGradient((v) => loss(x, gamma, v), beta))).toBeLessThan(1e-4);
  });

  it('inference uses the moving statistics', async () => {
    await useBackend(backend);
    const c = 4, rows = 10;
    const x = seeded(8, rows * c), gamma = seeded(9, c, 0.5, 1.5), beta = seeded(10, c);
    const movingMean = seeded(11, c), movingVariance = seeded(12, c, 0.5, 2);
    const got = tf.tidy(() =>
      batchNormReluInference(tf.tensor4d(x, [1, 2, 5, c]), tf.tensor1d(gamma), tf.tensor1d(beta), tf.tensor1d(movingMean), tf.tensor1d(movingVariance), EPSILON).dataSync(),
    );
    const expected = Array.from(x, (v, i) => {
      const ch = i % c;
      return Math.max(0, (gamma[ch] * (v - movingMean[ch])) / Math.sqrt(movingVariance[ch] + EPSILON) + beta[ch]);
    });
    expect(relativeError(got, expected)).toBeLessThan(1e-6);
  });
});

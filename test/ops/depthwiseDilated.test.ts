// depthwiseConv2dDilated against the direct-loop reference, on the cpu and wasm backends:
// forward for d = 1, 2, 3 on odd and even sizes, gradients against central finite differences
// of the float64 reference, and a check that dilation really changes the result.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { depthwiseConv2dDilated, depthwiseFilterGradient } from '../../src/ops/depthwiseDilated.js';
import { type Shape4, depthwiseDilatedRef, dot, finiteDifferenceGradient } from './reference.js';
import { TEST_BACKENDS, relativeError, seeded, useBackend } from './helpers.js';

const K = 3;
const shapes: Array<[string, Shape4]> = [
  ['odd 7×9, 4 channels', { batch: 2, height: 7, width: 9, channels: 4 }],
  ['even 8×6, 8 channels', { batch: 2, height: 8, width: 6, channels: 8 }],
  ['odd 5×5, 3 channels (no SIMD path)', { batch: 1, height: 5, width: 5, channels: 3 }],
];

function run(x: Float32Array, s: Shape4, w: Float32Array, d: number): Float32Array {
  return tf.tidy(() =>
    depthwiseConv2dDilated(
      tf.tensor4d(x, [s.batch, s.height, s.width, s.channels]),
      tf.tensor4d(w, [K, K, s.channels, 1]),
      d,
    ).dataSync() as Float32Array,
  );
}

describe.each(TEST_BACKENDS)('depthwiseConv2dDilated on %s', (backend) => {
  it.each([1, 2, 3])('forward with dilation %i equals the reference on every shape', async (d) => {
    await useBackend(backend);
    for (const [, s] of shapes) {
      const x = seeded(d * 10 + s.height, s.batch * s.height * s.width * s.channels);
      const w = seeded(d * 20 + s.width, K * K * s.channels);
      expect(relativeError(run(x, s, w, d), depthwiseDilatedRef(x, s, w, K, d))).toBeLessThan(1e-5);
    }
  });

  it('dilation changes the output: d = 2 differs from d = 1 and matches only its own reference', async () => {
    await useBackend(backend);
    const s = shapes[1][1];
    const x = seeded(5, s.batch * s.height * s.width * s.channels);
    const w = seeded(6, K * K * s.channels);
    const dilated = run(x, s, w, 2);
    expect(relativeError(dilated, depthwiseDilatedRef(x, s, w, K, 2))).toBeLessThan(1e-5);
    expect(relativeError(dilated, depthwiseDilatedRef(x, s, w, K, 1))).toBeGreaterThan(0.1);
  });

  it.each([1, 2, 3])('gradients with dilation %i match central finite differences of the reference', async (d) => {
    await useBackend(backend);
    for (const [, s] of shapes.slice(0, 2)) {
      const size = s.batch * s.height * s.width * s.channels;
      const x = seeded(100 + d, size);
      const w = seeded(200 + d, K * K * s.channels);
      const weights = seeded(300 + d, size); // L = Σ weights ⊙ f(x, w)
      const [dx, dw] = tf.tidy(() => {
        const f = (xt: tf.Tensor, wt: tf.Tensor) =>
          tf.sum(tf.mul(depthwiseConv2dDilated(xt as tf.Tensor4D, wt as tf.Tensor4D, d), tf.tensor4d(weights, [s.batch, s.height, s.width, s.channels])));
        const grads = tf.grads(f)([tf.tensor4d(x, [s.batch, s.height, s.width, s.channels]), tf.tensor4d(w, [K, K, s.channels, 1])]);
        return grads.map((g) => g.dataSync() as Float32Array);
      });
      const lossOfX = (v: Float64Array) => dot(weights, depthwiseDilatedRef(v, s, w, K, d));
      const lossOfW = (v: Float64Array) => dot(weights, depthwiseDilatedRef(x, s, v, K, d));
      expect(relativeError(dx, finiteDifferenceGradient(lossOfX, x))).toBeLessThan(1e-4);
      expect(relativeError(dw, finiteDifferenceGradient(lossOfW, w))).toBeLessThan(1e-4);
    }
  });

  it('the filter gradient for a 5×5 filter (generic path) matches finite differences', async () => {
    await useBackend(backend);
    const s: Shape4 = { batch: 1, height: 6, width: 7, channels: 4 };
    const size = s.batch * s.height * s.width * s.channels;
    const x = seeded(1, size), dy = seeded(2, size), w0 = new Float64Array(25 * s.channels);
    const got = tf.tidy(() =>
      depthwiseFilterGradient(tf.tensor4d(x, [1, 6, 7, 4]), tf.tensor4d(dy, [1, 6, 7, 4]), 5, 2).dataSync() as Float32Array,
    );
    const expected = finiteDifferenceGradient((v) => dot(dy, depthwiseDilatedRef(x, s, v, 5, 2)), w0);
    expect(relativeError(got, expected)).toBeLessThan(1e-4);
  });
});

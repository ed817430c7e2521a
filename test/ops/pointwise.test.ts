// pointwiseConv and matMulTransposeA against direct loops, on the cpu and wasm backends.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { matMulTransposeA, pointwiseConv } from '../../src/ops/pointwise.js';
import { dot, finiteDifferenceGradient, matMulTransposeARef, pointwiseRef } from './reference.js';
import { TEST_BACKENDS, relativeError, seeded, useBackend } from './helpers.js';

// [batch, height, width, in, out]: SIMD-friendly channels, and odd ones for the fallback paths.
const cases: Array<[number, number, number, number, number]> = [
  [2, 5, 6, 8, 16],
  [1, 3, 7, 5, 6],
];

describe.each(TEST_BACKENDS)('pointwiseConv on %s', (backend) => {
  it.each(cases)('forward [%i,%i,%i,%i] → %i channels equals the reference', async (b, h, w, cin, cout) => {
    await useBackend(backend);
    const x = seeded(1, b * h * w * cin), k = seeded(2, cin * cout);
    const got = tf.tidy(() => pointwiseConv(tf.tensor4d(x, [b, h, w, cin]), tf.tensor4d(k, [1, 1, cin, cout])).dataSync());
    expect(relativeError(got, pointwiseRef(x, b * h * w, cin, k, cout))).toBeLessThan(1e-5);
  });

  it.each(cases)('gradients [%i,%i,%i,%i] → %i match finite differences of the reference', async (b, h, w, cin, cout) => {
    await useBackend(backend);
    const rows = b * h * w;
    const x = seeded(3, rows * cin), k = seeded(4, cin * cout), weights = seeded(5, rows * cout);
    const [dx, dk] = tf.tidy(() =>
      tf
        .grads((xt: tf.Tensor, kt: tf.Tensor) =>
          tf.sum(tf.mul(pointwiseConv(xt as tf.Tensor4D, kt as tf.Tensor4D), tf.tensor4d(weights, [b, h, w, cout]))),
        )([tf.tensor4d(x, [b, h, w, cin]), tf.tensor4d(k, [1, 1, cin, cout])])
        .map((g) => g.dataSync()),
    );
    expect(relativeError(dx, finiteDifferenceGradient((v) => dot(weights, pointwiseRef(v, rows, cin, k, cout)), x))).toBeLessThan(1e-4);
    expect(relativeError(dk, finiteDifferenceGradient((v) => dot(weights, pointwiseRef(x, rows, cin, v, cout)), k))).toBeLessThan(1e-4);
  });

  it.each([
    [300, 12, 16],
    [37, 5, 3],
    [1000, 64, 64],
  ])('matMulTransposeA of [%i, %i]ᵀ·[%i, n] equals the reference', async (m, k, n) => {
    await useBackend(backend);
    const a = seeded(6, m * k), b = seeded(7, m * n);
    const got = tf.tidy(() => matMulTransposeA(tf.tensor2d(a, [m, k]), tf.tensor2d(b, [m, n])).dataSync());
    expect(relativeError(got, matMulTransposeARef(a, b, m, k, n))).toBeLessThan(1e-5);
  });
});

// Pointwise (1×1) convolution as one matrix product on [B·H·W, C], NHWC, no bias.
// The gradient avoids transposed products of large operands: dX = dY · Wᵀ transposes the small
// weight first; dW = Xᵀ · dY goes to a registered kernel when the backend has one. Plain
// products go to MATMUL when registered (the wasm one beats XNNPACK for these shapes).
import * as tf from '@tensorflow/tfjs';
import { hasKernel, runKernel } from './kernelRegistry.js';

export const MATMUL_TRANSPOSE_A = 'DsdcMatMulTransposeA';
export const MATMUL = 'DsdcMatMul';

/** What a pointwiseConv output was computed from, so that the op after it may fuse backward passes with it. */
export interface PointwiseOrigin {
  input: tf.Tensor4D;
  kernel: tf.Tensor4D;
}

const origins = new WeakMap<tf.Tensor, PointwiseOrigin>();

/** The input and kernel of the pointwiseConv that made `output`; undefined for any other tensor. */
export function pointwiseOrigin(output: tf.Tensor): PointwiseOrigin | undefined {
  return origins.get(output);
}

export function pointwiseConv(x: tf.Tensor4D, kernel: tf.Tensor4D): tf.Tensor4D {
  const [batch, height, width, inChannels] = x.shape;
  const outChannels = kernel.shape[3];
  const op = tf.customGrad((xIn, kernelIn, save) => {
    const rows = tf.reshape(xIn as tf.Tensor, [batch * height * width, inChannels]) as tf.Tensor2D;
    const weights = tf.reshape(kernelIn as tf.Tensor, [inChannels, outChannels]) as tf.Tensor2D;
    (save as tf.GradSaveFunc)([rows, weights]);
    // The batch norm that follows a pointwise convolution needs its output's column moments: a
    // backend that can make them with the product (the wasm kernels) saves it a pass.
    const value = tf.reshape(matMul(rows, weights, { columnMoments: true }), [batch, height, width, outChannels]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [savedRows, savedWeights] = saved as [tf.Tensor2D, tf.Tensor2D];
      const dyRows = tf.reshape(dy, [batch * height * width, outChannels]) as tf.Tensor2D;
      const dx = tf.reshape(matMul(dyRows, tf.transpose(savedWeights)), [batch, height, width, inChannels]);
      const dKernel = tf.reshape(matMulTransposeA(savedRows, dyRows), [1, 1, inChannels, outChannels]);
      return [dx, dKernel];
    };
    return { value, gradFunc };
  });
  const output = op(x, kernel) as tf.Tensor4D;
  origins.set(output, { input: x, kernel });
  return output;
}

/** a · b for a: [M, K], b: [K, N] → [M, N]; columnMoments: see MATMUL's kernel (src/ops/wasm/dsdcKernels.ts). */
function matMul(a: tf.Tensor2D, b: tf.Tensor2D, attrs: { columnMoments?: boolean } = {}): tf.Tensor2D {
  if (hasKernel(MATMUL)) return runKernel<tf.Tensor2D>(MATMUL, { a, b }, attrs);
  return tf.matMul(a, b);
}

/** aᵀ · b for a: [M, K], b: [M, N] → [K, N]. */
export function matMulTransposeA(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  if (hasKernel(MATMUL_TRANSPOSE_A)) return runKernel<tf.Tensor2D>(MATMUL_TRANSPOSE_A, { a, b });
  return tf.matMul(a, b, true, false);
}

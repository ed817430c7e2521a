// Training-mode batch normalisation over N·H·W followed by ReLU, as one op with a hand-written
// gradient (two passes over the data each way instead of tfjs's chain of moments, broadcasts
// and transposes). Backends may register the two named kernels; the composite below is the
// reference and the fallback. When x comes straight from a pointwiseConv and the backend has
// BN_RELU_POINTWISE_BACKWARD, the op takes the convolution's input and kernel as its own inputs
// and computes both backward passes in that one kernel (the convolution's own tape entry then
// leads nowhere and is skipped): batch norm's input gradient is never written out.
//   forward:  x̂ = (x − μ)·σ⁻¹,  y = max(0, γ·x̂ + β)      (σ² biased, as in Keras)
//   backward: g = dy·[y > 0],  dβ = Σg,  dγ = Σg·x̂,  dx = γσ⁻¹/N · (N·g − dβ − x̂·dγ)
import * as tf from '@tensorflow/tfjs';
import { hasKernel, runKernel } from './kernelRegistry.js';
import { type PointwiseOrigin, pointwiseOrigin } from './pointwise.js';

export const BN_RELU_FORWARD = 'DsdcBatchNormReluForward';
export const BN_RELU_BACKWARD = 'DsdcBatchNormReluBackward';
export const BN_RELU_POINTWISE_BACKWARD = 'DsdcBatchNormReluPointwiseBackward';

export interface BatchNormReluResult {
  output: tf.Tensor4D;
  /** Batch mean and biased variance per channel; the caller owns and disposes them. */
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
}

export function batchNormReluTraining(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon: number,
): BatchNormReluResult {
  const origin = pointwiseOrigin(x);
  if (origin !== undefined && hasKernel(BN_RELU_POINTWISE_BACKWARD)) return batchNormReluAfterPointwise(x, origin, gamma, beta, epsilon);
  let statistics: [tf.Tensor1D, tf.Tensor1D] | undefined;
  const op = tf.customGrad((xIn, gammaIn, betaIn, save) => {
    const [output, mean, variance] = batchNormReluForward(xIn as tf.Tensor4D, gammaIn as tf.Tensor1D, betaIn as tf.Tensor1D, epsilon);
    statistics = [tf.keep(mean.clone()), tf.keep(variance.clone())];
    (save as tf.GradSaveFunc)([xIn, gammaIn, output, mean, variance] as tf.Tensor[]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sx, sGamma, sOut, sMean, sVar] = saved as [tf.Tensor4D, tf.Tensor1D, tf.Tensor4D, tf.Tensor1D, tf.Tensor1D];
      return batchNormReluBackward(dy as tf.Tensor4D, sx, sGamma, sOut, sMean, sVar, epsilon);
    };
    return { value: output, gradFunc };
  });
  const output = op(x, gamma, beta) as tf.Tensor4D;
  const [mean, variance] = statistics!;
  return { output, mean, variance };
}

/** The forward pass as above; the gradient goes to the pointwise convolution's input and kernel too, in one kernel. */
function batchNormReluAfterPointwise(x: tf.Tensor4D, origin: PointwiseOrigin, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number): BatchNormReluResult {
  const [batch, height, width, channels] = x.shape;
  const inChannels = origin.input.shape[3];
  const rows = batch * height * width;
  let statistics: [tf.Tensor1D, tf.Tensor1D] | undefined;
  const op = tf.customGrad((inputIn, kernelIn, gammaIn, betaIn, save) => {
    const [output, mean, variance] = batchNormReluForward(x, gammaIn as tf.Tensor1D, betaIn as tf.Tensor1D, epsilon);
    statistics = [tf.keep(mean.clone()), tf.keep(variance.clone())];
    (save as tf.GradSaveFunc)([x, inputIn, kernelIn, gammaIn, output, mean, variance] as tf.Tensor[]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sx, sInput, sKernel, sGamma, sOut, sMean, sVar] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D, tf.Tensor1D, tf.Tensor4D, tf.Tensor1D, tf.Tensor1D];
      const a = tf.reshape(sInput, [rows, inChannels]);
      const wT = tf.transpose(tf.reshape(sKernel, [inChannels, channels]));
      const [da, dw, dGamma, dBeta] = runKernel<tf.Tensor>(BN_RELU_POINTWISE_BACKWARD, { dy, x: sx, gamma: sGamma, output: sOut, mean: sMean, variance: sVar, a, wT }, { epsilon }) as unknown as tf.Tensor[];
      return [tf.reshape(da, [batch, height, width, inChannels]), tf.reshape(dw, [1, 1, inChannels, channels]), dGamma, dBeta];
    };
    return { value: output, gradFunc };
  });
  const output = op(origin.input, origin.kernel, gamma, beta) as tf.Tensor4D;
  const [mean, variance] = statistics!;
  return { output, mean, variance };
}

/** Inference mode: moving statistics folded into one scale and shift per channel. */
export function batchNormReluInference(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  movingMean: tf.Tensor1D,
  movingVariance: tf.Tensor1D,
  epsilon: number,
): tf.Tensor4D {
  return tf.tidy(() => {
    const scale = tf.mul(gamma, tf.rsqrt(tf.add(movingVariance, epsilon)));
    const shift = tf.sub(beta, tf.mul(movingMean, scale));
    return tf.relu(tf.add(tf.mul(x, scale), shift)) as tf.Tensor4D;
  });
}

function batchNormReluForward(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number): [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D] {
  if (hasKernel(BN_RELU_FORWARD)) {
    return runKernel<tf.Tensor>(BN_RELU_FORWARD, { x, gamma, beta }, { epsilon }) as unknown as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D];
  }
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  const output = tf.tidy(() => {
    const scale = tf.mul(gamma, tf.rsqrt(tf.add(variance, epsilon)));
    const shift = tf.sub(beta, tf.mul(mean, scale));
    return tf.relu(tf.add(tf.mul(x, scale), shift)) as tf.Tensor4D;
  });
  return [output, mean as tf.Tensor1D, variance as tf.Tensor1D];
}

function batchNormReluBackward(
  dy: tf.Tensor4D,
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  output: tf.Tensor4D,
  mean: tf.Tensor1D,
  variance: tf.Tensor1D,
  epsilon: number,
): [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D] {
  if (hasKernel(BN_RELU_BACKWARD)) {
    return runKernel<tf.Tensor>(BN_RELU_BACKWARD, { dy, x, gamma, output, mean, variance }, { epsilon }) as unknown as [
      tf.Tensor4D,
      tf.Tensor1D,
      tf.Tensor1D,
    ];
  }
  return tf.tidy(() => {
    const count = x.shape[0] * x.shape[1] * x.shape[2];
    const invStd = tf.rsqrt(tf.add(variance, epsilon));
    const normalized = tf.mul(tf.sub(x, mean), invStd);
    const g = tf.mul(dy, tf.step(output));
    const dBeta = tf.sum(g, [0, 1, 2]) as tf.Tensor1D;
    const dGamma = tf.sum(tf.mul(g, normalized), [0, 1, 2]) as tf.Tensor1D;
    const coefficient = tf.div(tf.mul(gamma, invStd), count);
    const centred = tf.sub(tf.sub(tf.mul(g, count), dBeta), tf.mul(normalized, dGamma));
    const dx = tf.mul(centred, coefficient) as tf.Tensor4D;
    return [dx, dGamma, dBeta];
  });
}

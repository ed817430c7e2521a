// Depthwise k×k convolution with dilation d, stride 1 and symmetric "same" padding, with a
// gradient that supports d > 1 on every backend (tfjs-core's own gradient asserts d = 1,
// tensorflow/tfjs#7906).
//   dX = depthwise convolution of dY with the filter rotated by 180° (same d, same padding);
//   dW[i,j,c] = Σ_{b,h,w} xPadded[b, h + i·d, w + j·d, c] · dY[b,h,w,c].
import * as tf from '@tensorflow/tfjs';
import { hasKernel, runKernel } from './kernelRegistry.js';
import { KernelError } from './errors.js';

/** Kernel names a backend may register to speed these ops up. */
export const DEPTHWISE_FILTER_GRAD = 'DsdcDepthwiseConv2dDilatedBackpropFilter';

export function depthwiseConv2dDilated(x: tf.Tensor4D, filter: tf.Tensor4D, dilation: number): tf.Tensor4D {
  checkFilter(filter);
  const op = tf.customGrad((xIn, filterIn, save) => {
    const input = xIn as tf.Tensor4D;
    const kernel = filterIn as tf.Tensor4D;
    (save as tf.GradSaveFunc)([input, kernel]);
    const value = tf.depthwiseConv2d(input, kernel, 1, 'same', 'NHWC', dilation);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [savedX, savedFilter] = saved as [tf.Tensor4D, tf.Tensor4D];
      const dy4 = dy as tf.Tensor4D;
      const rotated = tf.reverse(savedFilter, [0, 1]) as tf.Tensor4D;
      const dx = tf.depthwiseConv2d(dy4, rotated, 1, 'same', 'NHWC', dilation);
      const dFilter = depthwiseFilterGradient(savedX, dy4, savedFilter.shape[0], dilation);
      return [dx, dFilter];
    };
    return { value, gradFunc };
  });
  return op(x, filter) as tf.Tensor4D;
}

/** dW of a stride-1 "same" depthwise convolution, shape [k, k, C, 1]. */
export function depthwiseFilterGradient(x: tf.Tensor4D, dy: tf.Tensor4D, kernelSize: number, dilation: number): tf.Tensor4D {
  if (hasKernel(DEPTHWISE_FILTER_GRAD)) {
    return runKernel<tf.Tensor4D>(DEPTHWISE_FILTER_GRAD, { x, dy }, { kernelSize, dilation });
  }
  return tf.tidy(() => {
    const [, height, width, channels] = x.shape;
    const pad = (dilation * (kernelSize - 1)) / 2;
    const padded = tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]]);
    const taps: tf.Tensor1D[] = [];
    for (let i = 0; i < kernelSize; i++) {
      for (let j = 0; j < kernelSize; j++) {
        const window = tf.slice(padded, [0, i * dilation, j * dilation, 0], [-1, height, width, channels]);
        taps.push(tf.sum(tf.mul(window, dy), [0, 1, 2]) as tf.Tensor1D);
      }
    }
    return tf.reshape(tf.stack(taps), [kernelSize, kernelSize, channels, 1]) as tf.Tensor4D;
  });
}

function checkFilter(filter: tf.Tensor4D): void {
  const [kh, kw, , multiplier] = filter.shape;
  if (kh !== kw || kh % 2 !== 1 || multiplier !== 1) {
    throw new KernelError('KERNEL_INPUT', 
      `depthwiseConv2dDilated needs a square, odd-sized filter with channel multiplier 1; got shape [${filter.shape.join(', ')}]`,
    );
  }
}

// The gradient of Mean (global average pooling's backward): dy / N spread over the reduced
// axes. tfjs's own multiplies dy by tf.ones(x.shape), a tensor filled element by element in
// JavaScript and then copied to the backend: for DSDC-Net's [64, 14, 14, 128] that fill alone
// took 3.8 ms of a step on the wasm backend. Here dy is divided first (it is small) and spread:
// by the SPREAD_OVER_ROWS kernel where the backend has one and the mean was over the middle axes
// of NHWC (global average pooling), else by a multiply with a backend Fill. The same values bit
// for bit either way ((dy·1)/N = (dy/N)·1).
import * as tf from '@tensorflow/tfjs';
import { hasKernel, runKernel } from './kernelRegistry.js';

/** out[b, …, c] = v[b, c] over the middle axes of outShape (attrs: { outShape }). */
export const SPREAD_OVER_ROWS = 'DsdcSpreadOverRows';

/** Whether sorted `axes` are all the axes but the first and the last (global average pooling of NHWC). */
export function reducesMiddleAxes(axes: readonly number[], rank: number): boolean {
  return rank >= 3 && axes.length === rank - 2 && axes.every((axis, i) => axis === i + 1);
}

function spread(scaled: tf.Tensor, x: tf.Tensor, axes: number[]): tf.Tensor {
  if (reducesMiddleAxes(axes, x.rank) && hasKernel(SPREAD_OVER_ROWS)) {
    return runKernel(SPREAD_OVER_ROWS, { v: tf.reshape(scaled, [x.shape[0], x.shape[x.rank - 1]]) }, { outShape: x.shape });
  }
  return tf.mul(scaled, tf.fill(x.shape, 1, 'float32'));
}

function meanGradient(dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap): { x: () => tf.Tensor } {
  const [x] = saved;
  const axes = tf.util.parseAxisParam(attrs.axis as number | number[], x.shape).sort((a, b) => a - b);
  const expandedShape = x.shape.map((size, axis) => (axes.includes(axis) ? 1 : size));
  const reduceSize = axes.reduce((n, axis) => n * x.shape[axis], 1);
  return {
    x: () => spread(tf.div(tf.reshape(dy as tf.Tensor, expandedShape), reduceSize), x, axes),
  };
}

// Replaces tfjs's gradient of Mean for every backend, once this module is loaded (src/model does).
tf.registerGradient({ kernelName: 'Mean', inputsToSave: ['x'], gradFunc: meanGradient as tf.GradConfig['gradFunc'] });

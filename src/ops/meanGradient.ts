// The gradient of Mean (global average pooling's backward): dy / N spread over the reduced
// axes. tfjs's own multiplies dy by tf.ones(x.shape), a tensor filled element by element in
// JavaScript and then copied to the backend: for DSDC-Net's [64, 14, 14, 128] that fill alone
// took 3.8 ms of a step on the wasm backend. Here dy is divided first (it is small) and spread
// by a multiply with a backend Fill: the same values bit for bit ((dy·1)/N = (dy/N)·1).
import * as tf from '@tensorflow/tfjs';

function meanGradient(dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap): { x: () => tf.Tensor } {
  const [x] = saved;
  const axes = tf.util.parseAxisParam(attrs.axis as number | number[], x.shape);
  const expandedShape = x.shape.map((size, axis) => (axes.includes(axis) ? 1 : size));
  const reduceSize = axes.reduce((n, axis) => n * x.shape[axis], 1);
  return {
    x: () => tf.mul(tf.div(tf.reshape(dy as tf.Tensor, expandedShape), reduceSize), tf.fill(x.shape, 1, 'float32')),
  };
}

/** Replaces tfjs's gradient of Mean for every backend; idempotent. */
export function registerMeanGradient(): void {
  tf.registerGradient({ kernelName: 'Mean', inputsToSave: ['x'], gradFunc: meanGradient as tf.GradConfig['gradFunc'] });
}

registerMeanGradient();

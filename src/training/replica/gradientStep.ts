// One step's gradient computation, the code every replica runs (standalone or distributed):
// forward in training mode, mean softmax cross-entropy over the batch, gradients of every
// trainable variable. Batch norm's moving statistics are updated in place as a side effect of
// the training-mode forward pass.
import * as tf from '@tensorflow/tfjs';
import type { NamedVariable } from './variables.js';

export interface GradientResult {
  /** Gradient of the mean loss over this batch, keyed by variable name. */
  gradients: Map<string, tf.Tensor>;
  loss: tf.Scalar;
  correct: tf.Scalar;
}

export function batchTensors(images: Float32Array, labels: Int32Array, inputShape: readonly number[], numClasses: number) {
  const [h, w, c] = inputShape;
  return tf.tidy(() => ({
    x: tf.tensor4d(images, [labels.length, h, w, c]),
    y: tf.oneHot(tf.tensor1d(labels, 'int32'), numClasses) as tf.Tensor2D,
  }));
}

export function computeGradients(model: tf.LayersModel, trainable: NamedVariable[], x: tf.Tensor4D, y: tf.Tensor2D): GradientResult {
  let correct: tf.Scalar | undefined;
  const { value, grads } = tf.variableGrads(() => {
    const logits = model.apply(x, { training: true }) as tf.Tensor2D;
    correct = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), tf.argMax(y, 1)), 'float32')) as tf.Scalar);
    return tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
  }, trainable.map((v) => v.variable));
  const byVariableName = new Map(trainable.map((v) => [v.variable.name, v.name]));
  const gradients = new Map<string, tf.Tensor>();
  for (const [variableName, gradient] of Object.entries(grads)) {
    gradients.set(byVariableName.get(variableName) ?? variableName, gradient);
  }
  return { gradients, loss: value, correct: correct! };
}

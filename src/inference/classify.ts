// Class probabilities for prepared 28×28 inputs, and the prediction read from them (class and
// top-k). Imports only tfjs and pure modules, so the browser page runs it too.
import * as tf from '@tensorflow/tfjs';
import { argmaxRows } from '../metrics/classification.js';
import { EVALUATION_BATCH } from './evaluate.js';
import { PredictError } from './errors.js';
import { MNIST_SIZE } from './preprocess.js';

/** How many classes a prediction lists. */
export const TOP_K = 3;

export interface ClassProbability {
  class: number;
  probability: number;
}

export interface Prediction {
  predicted: number;
  /** The TOP_K most probable classes, most probable first. */
  top: ClassProbability[];
  /** One per class, summing to 1. */
  probabilities: number[];
}

/** `inputs` holds `count` images of MNIST_SIZE² values in [0, 1]; returns count×K probabilities, row-major. */
export function classProbabilities(model: tf.LayersModel, inputs: Float32Array, count: number): Float32Array {
  const pixels = MNIST_SIZE * MNIST_SIZE;
  if (inputs.length !== count * pixels) {
    throw new PredictError('MODEL_INPUT', `expected ${count} images of ${MNIST_SIZE}×${MNIST_SIZE} (${count * pixels} values), got ${inputs.length} values`);
  }
  const numClasses = model.outputs[0].shape[1] as number;
  const out = new Float32Array(count * numClasses);
  for (let start = 0; start < count; start += EVALUATION_BATCH) {
    const n = Math.min(EVALUATION_BATCH, count - start);
    const values = tf.tidy(() => {
      const x = tf.tensor4d(inputs.subarray(start * pixels, (start + n) * pixels), [n, MNIST_SIZE, MNIST_SIZE, 1]);
      return tf.softmax(model.predict(x) as tf.Tensor2D).dataSync() as Float32Array;
    });
    out.set(values, start * numClasses);
  }
  return out;
}

/** The prediction of each row of an N×K probability matrix. */
export function predictionsFrom(probabilities: Float32Array, numClasses: number): Prediction[] {
  const predicted = argmaxRows(probabilities, numClasses);
  return Array.from(predicted, (cls, i) => {
    const row = Array.from(probabilities.subarray(i * numClasses, (i + 1) * numClasses));
    const top = row
      .map((probability, c) => ({ class: c, probability }))
      .sort((a, b) => b.probability - a.probability || a.class - b.class)
      .slice(0, TOP_K);
    return { predicted: cls, top, probabilities: row };
  });
}

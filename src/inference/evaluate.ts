// Inference over a whole split in batches, and the evaluation report built from it.
import * as tf from '@tensorflow/tfjs';
import { gatherBatch } from '../data/batching.js';
import type { Split } from '../data/types.js';
import { evaluationReport, meanCrossEntropy, type EvaluationReport } from '../metrics/classification.js';

export const EVALUATION_BATCH = 500;

/** Class probabilities for every example of the split, N×K row-major. */
export function predictProbabilities(model: tf.LayersModel, split: Split, numClasses: number, batchSize = EVALUATION_BATCH): Float32Array {
  const probabilities = new Float32Array(split.count * numClasses);
  for (let start = 0; start < split.count; start += batchSize) {
    const end = Math.min(split.count, start + batchSize);
    const indices = Int32Array.from({ length: end - start }, (_, i) => start + i);
    const { images } = gatherBatch(split, indices);
    const values = tf.tidy(() => {
      const x = tf.tensor4d(images, [indices.length, split.rows, split.cols, 1]);
      return tf.softmax(model.predict(x) as tf.Tensor2D).dataSync() as Float32Array;
    });
    probabilities.set(values, start * numClasses);
  }
  return probabilities;
}

/**
 * predictProbabilities with asynchronous reads: the only way on the webgpu backend, which cannot
 * read a tensor synchronously in Node.
 */
export async function predictProbabilitiesAsync(model: tf.LayersModel, split: Split, numClasses: number, batchSize = EVALUATION_BATCH): Promise<Float32Array> {
  const probabilities = new Float32Array(split.count * numClasses);
  for (let start = 0; start < split.count; start += batchSize) {
    const end = Math.min(split.count, start + batchSize);
    const indices = Int32Array.from({ length: end - start }, (_, i) => start + i);
    const { images } = gatherBatch(split, indices);
    const batch = tf.tidy(() => tf.softmax(model.predict(tf.tensor4d(images, [indices.length, split.rows, split.cols, 1])) as tf.Tensor2D));
    try {
      probabilities.set((await batch.data()) as Float32Array, start * numClasses);
    } finally {
      batch.dispose();
    }
  }
  return probabilities;
}

export async function evaluateModel(model: tf.LayersModel, split: Split, numClasses: number): Promise<EvaluationReport> {
  return evaluationReport(split.labels, await predictProbabilitiesAsync(model, split, numClasses), numClasses);
}

/** The report of evaluateModel plus the mean cross-entropy: what a validation split is scored by. */
export async function evaluateWithLoss(model: tf.LayersModel, split: Split, numClasses: number): Promise<EvaluationReport & { loss: number }> {
  const probabilities = await predictProbabilitiesAsync(model, split, numClasses);
  return { ...evaluationReport(split.labels.subarray(0, split.count), probabilities, numClasses), loss: meanCrossEntropy(split.labels.subarray(0, split.count), probabilities, numClasses) };
}

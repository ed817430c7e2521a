// Classifying the images of an MNIST-format IDX file against its labels, through exactly the
// code `evaluate` uses (same scaling, same batches), so the accuracies agree.
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { readIdxFile } from '../data/idx.js';
import type { Split } from '../data/types.js';
import { splitFromIdx } from '../data/verify.js';
import { accuracy } from '../metrics/classification.js';
import { predictProbabilities } from './evaluate.js';
import { limitSplit } from '../data/batching.js';
import { predictionsFrom, type Prediction } from './classify.js';
import { PredictError } from './errors.js';

export interface IdxPredictions {
  predictions: Prediction[];
  labels: Uint8Array;
  correct: number;
  accuracy: number;
}

/** The labels file released with an images file: t10k-images-idx3-ubyte(.gz) → t10k-labels-idx1-ubyte(.gz). */
export function matchingLabelsPath(imagesPath: string): string | undefined {
  const name = basename(imagesPath);
  const labels = name.replace('images', 'labels').replace('idx3', 'idx1');
  return labels === name ? undefined : join(dirname(imagesPath), labels);
}

/** The first `limit` (0: all) images of an IDX file with their labels, as a Split. */
export async function readLabelledIdx(imagesPath: string, labelsPath: string | undefined, numClasses: number, limit: number): Promise<{ split: Split; labelsPath: string }> {
  const labels = labelsPath ?? matchingLabelsPath(imagesPath);
  if (labels === undefined || (labelsPath === undefined && !existsSync(labels))) {
    const guess = labels === undefined ? '' : ` (looked for ${labels})`;
    throw new PredictError('IDX_LABELS', `--idx ${imagesPath}: found no matching labels file${guess}; pass it with --labels FILE`, imagesPath);
  }
  const split = splitFromIdx(await readIdxFile(imagesPath), await readIdxFile(labels), { images: imagesPath, labels }, numClasses);
  return { split: limitSplit(split, limit), labelsPath: labels };
}

export function predictIdx(model: tf.LayersModel, split: Split, numClasses: number): IdxPredictions {
  const predictions = predictionsFrom(predictProbabilities(model, split, numClasses), numClasses);
  const predicted = predictions.map((p) => p.predicted);
  const correct = predicted.filter((c, i) => c === split.labels[i]).length;
  return { predictions, labels: split.labels, correct, accuracy: accuracy(split.labels, predicted) };
}

// Verification of decoded IDX arrays against what a classification dataset must look like:
// 3-D uint8 images, 1-D uint8 labels, equal counts, labels in range, non-empty, and one image
// size shared by train and test. Also the label histogram that the loader logs.

import { DataError } from './errors.js';
import type { IdxArray } from './idx.js';
import type { Split } from './types.js';

export interface SplitFiles {
  images: string;
  labels: string;
}

/** Checks one split's image and label arrays and returns them as a Split. */
export function splitFromIdx(
  images: IdxArray,
  labels: IdxArray,
  files: SplitFiles,
  numClasses: number,
): Split {
  if (images.dtype !== 'uint8' || images.dims.length !== 3) {
    throw new DataError(
      'DATA_SHAPE',
      `${files.images}: expected 3-D uint8 images [count, rows, cols], got ` +
        `${images.dims.length}-D ${images.dtype} [${images.dims.join(', ')}]`,
      files.images,
    );
  }
  if (labels.dtype !== 'uint8' || labels.dims.length !== 1) {
    throw new DataError(
      'DATA_SHAPE',
      `${files.labels}: expected 1-D uint8 labels [count], got ` +
        `${labels.dims.length}-D ${labels.dtype} [${labels.dims.join(', ')}]`,
      files.labels,
    );
  }
  const [count, rows, cols] = images.dims;
  if (count !== labels.dims[0]) {
    throw new DataError(
      'DATA_COUNT_MISMATCH',
      `${files.images} holds ${count} images but ${files.labels} holds ${labels.dims[0]} labels; ` +
        `the two files must come from the same release`,
      files.labels,
    );
  }
  if (count === 0 || rows === 0 || cols === 0) {
    throw new DataError(
      'DATA_EMPTY',
      `${files.images}: expected a non-empty split, got dims [${images.dims.join(', ')}]`,
      files.images,
    );
  }
  const split: Split = {
    images: images.data as Uint8Array,
    labels: labels.data as Uint8Array,
    count,
    rows,
    cols,
  };
  checkLabelRange(split.labels, numClasses, files.labels);
  return split;
}

/** Throws DATA_LABEL_RANGE naming the first label outside 0..numClasses-1. */
export function checkLabelRange(labels: Uint8Array, numClasses: number, file: string): void {
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] >= numClasses) {
      throw new DataError(
        'DATA_LABEL_RANGE',
        `${file}: label at index ${i} is ${labels[i]}, expected 0..${numClasses - 1}`,
        file,
      );
    }
  }
}

/** Train and test must share one image size, or a model built for one cannot score the other. */
export function checkSameImageSize(train: Split, test: Split, testImagesFile: string): void {
  if (train.rows !== test.rows || train.cols !== test.cols) {
    throw new DataError(
      'DATA_SHAPE',
      `${testImagesFile}: test images are ${test.rows}x${test.cols} but train images are ` +
        `${train.rows}x${train.cols}; both splits must have the same image size`,
      testImagesFile,
    );
  }
}

export function labelHistogram(labels: Uint8Array, numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < labels.length; i++) counts[labels[i]]++;
  return counts;
}

export function formatHistogram(counts: number[]): string {
  return counts.map((n, label) => `${label}:${n}`).join(' ');
}

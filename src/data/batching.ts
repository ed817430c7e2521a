// From a Split to the tensors' worth of numbers one step needs: the epoch's shuffle, the global
// batch of each step, its contiguous split across workers, gathering (scaled to [0,1], optionally
// shifted), and restricting a split to a subset of classes.

import { augmentShift, writeShiftedImage } from './augment.js';
import { DataError } from './errors.js';
import { splitExamples, type ExampleSource } from './examples.js';
import { epochSeed, seededPermutation } from './rng.js';
import { MNIST_NUM_CLASSES } from './types.js';
import type { Split } from './types.js';

const PIXEL_MAX = 255;
/** Labels are stored as uint8, so a class id can never exceed this. */
const MAX_CLASS_ID = 255;

export interface GatherOptions {
  /** Random translation by up to maxShift pixels in x and y; seed should already include the epoch. */
  augment?: { maxShift: number; seed: number };
}

export interface Batch {
  /** B * rows * cols * 1 (NHWC with one channel), values in [0, 1]. */
  images: Float32Array;
  labels: Int32Array;
}

/** The order in which an epoch visits the examples; identical on every worker. */
export function epochPermutation(count: number, seed: number, epoch: number): Int32Array {
  return seededPermutation(count, epochSeed(seed, epoch));
}

/**
 * Full global batches in one epoch. The last partial batch is dropped so that every step has
 * the same size: averaged gradients then weigh each example equally and step timing is even.
 */
export function stepsPerEpoch(count: number, globalBatch: number): number {
  if (!Number.isInteger(globalBatch) || globalBatch <= 0) {
    throw new DataError('DATA_BATCH', `global batch must be a positive integer, got ${globalBatch}`);
  }
  if (globalBatch > count) {
    throw new DataError(
      'DATA_BATCH',
      `global batch ${globalBatch} is larger than the ${count} training examples; lower the batch size`,
    );
  }
  return Math.floor(count / globalBatch);
}

/** The example indices of one step: a view into `perm`, not a copy. */
export function globalBatchIndices(perm: Int32Array, step: number, globalBatch: number): Int32Array {
  const steps = stepsPerEpoch(perm.length, globalBatch);
  if (!Number.isInteger(step) || step < 0 || step >= steps) {
    throw new DataError(
      'DATA_BATCH',
      `step ${step} is outside 0..${steps - 1} for ${perm.length} examples in batches of ${globalBatch}`,
    );
  }
  return perm.subarray(step * globalBatch, (step + 1) * globalBatch);
}

/** Contiguous split into `parts`; the first (length % parts) parts get one extra (128/3 → 43,43,42). */
export function splitBatch(indices: Int32Array | number[], parts: number): Int32Array[] {
  if (!Number.isInteger(parts) || parts <= 0) {
    throw new DataError('DATA_BATCH', `a batch splits into a positive integer number of parts, got ${parts}`);
  }
  const base = Math.floor(indices.length / parts);
  const extra = indices.length % parts;
  const out: Int32Array[] = [];
  let start = 0;
  for (let p = 0; p < parts; p++) {
    const end = start + base + (p < extra ? 1 : 0);
    out.push(Int32Array.from(indices.slice(start, end)));
    start = end;
  }
  return out;
}

/** Copies the listed examples into a fresh batch, scaled to [0,1] and optionally shifted. */
export function gatherBatch(split: Split, indices: Int32Array | number[], opts: GatherOptions = {}): Batch {
  return gatherExamples(splitExamples(split), indices, opts);
}

/** gatherBatch for any ExampleSource; the augment shift depends on the example's index in it. */
export function gatherExamples(source: ExampleSource, indices: Int32Array | number[], opts: GatherOptions = {}): Batch {
  const { rows, cols, count } = source;
  const pixels = rows * cols;
  const augment = opts.augment;
  if (augment !== undefined) {
    const limit = Math.min(rows, cols) - 1;
    if (!Number.isInteger(augment.maxShift) || augment.maxShift < 0 || augment.maxShift > limit) {
      const got = augment.maxShift;
      throw new DataError('DATA_BATCH', `augment.maxShift must be an integer 0..${limit}, got ${got}`);
    }
  }
  const images = new Float32Array(indices.length * pixels);
  const labels = new Int32Array(indices.length);
  const noShift = { dx: 0, dy: 0 };
  for (let b = 0; b < indices.length; b++) {
    const example = indices[b];
    if (!Number.isInteger(example) || example < 0 || example >= count) {
      const where = `example index ${example} at batch position ${b}`;
      throw new DataError('DATA_BATCH', `${where} is outside the split's 0..${count - 1}`);
    }
    labels[b] = source.label(example);
    const shift = augment ? augmentShift(augment.seed, example, augment.maxShift) : noShift;
    writeShiftedImage(source.image(example), 0, images, b * pixels, rows, cols, shift, 1 / PIXEL_MAX);
  }
  return { images, labels };
}

function checkClassList(classes: number[], what: string): void {
  if (classes.length === 0) throw new DataError('DATA_CLASS_LIST', `${what}: expected at least one class id`);
  const seen = new Set<number>();
  for (const c of classes) {
    if (!Number.isInteger(c) || c < 0 || c > MAX_CLASS_ID) {
      throw new DataError('DATA_CLASS_LIST', `${what}: class id ${c} is not an integer 0..${MAX_CLASS_ID}`);
    }
    if (seen.has(c)) throw new DataError('DATA_CLASS_LIST', `${what}: class id ${c} is listed twice`);
    seen.add(c);
  }
}

/** The examples of a class subset: their positions in the full split and their new labels 0..K-1. */
export interface ClassSelection {
  rows: Int32Array;
  labels: Uint8Array;
}

/** Which examples have a label in `classes`, relabelled 0..K-1 in the order given. */
export function selectClasses(labels: Uint8Array, classes: number[]): ClassSelection {
  checkClassList(classes, `classes [${classes.join(',')}]`);
  const newLabel = new Int16Array(MAX_CLASS_ID + 1).fill(-1);
  classes.forEach((c, i) => (newLabel[c] = i));
  let kept = 0;
  for (const label of labels) if (newLabel[label] >= 0) kept++;
  if (kept === 0) {
    const list = classes.join(',');
    throw new DataError('DATA_EMPTY', `no examples have a label in [${list}]; check the class list`);
  }
  const rows = new Int32Array(kept);
  const selected = new Uint8Array(kept);
  let k = 0;
  labels.forEach((label, i) => {
    if (newLabel[label] < 0) return;
    rows[k] = i;
    selected[k++] = newLabel[label];
  });
  return { rows, labels: selected };
}

/** Keeps only examples whose label is in `classes`, relabelled 0..K-1 in the order given. */
export function filterClasses(split: Split, classes: number[]): Split {
  const { rows, labels } = selectClasses(split.labels.subarray(0, split.count), classes);
  const pixels = split.rows * split.cols;
  const images = new Uint8Array(rows.length * pixels);
  rows.forEach((row, k) => images.set(split.images.subarray(row * pixels, (row + 1) * pixels), k * pixels));
  return { images, labels, count: rows.length, rows: split.rows, cols: split.cols };
}

/** Parses '5-9', '0,2,4' or a mix ('0-2,7') into class ids, keeping the order written. */
export function parseClassList(spec: string, numClasses = MNIST_NUM_CLASSES): number[] {
  const what = `class list '${spec}'`;
  const classes: number[] = [];
  for (const raw of spec.split(',')) {
    const item = raw.trim();
    const m = /^(\d+)(?:\s*-\s*(\d+))?$/.exec(item);
    if (m === null) {
      throw new DataError('DATA_CLASS_LIST', `${what}: '${item}' is neither a class id nor a range like 5-9`);
    }
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from) throw new DataError('DATA_CLASS_LIST', `${what}: range '${item}' runs backwards`);
    if (to >= numClasses) {
      throw new DataError('DATA_CLASS_LIST', `${what}: class id ${to} is outside 0..${numClasses - 1}`);
    }
    for (let c = from; c <= to; c++) classes.push(c);
  }
  checkClassList(classes, what);
  return classes;
}

/** The first `limit` examples of a split (0, or a limit past its end: all of it), without copying. */
export function limitSplit(split: Split, limit: number): Split {
  if (limit <= 0 || limit >= split.count) return split;
  const pixels = split.rows * split.cols;
  return { ...split, count: limit, images: split.images.subarray(0, limit * pixels), labels: split.labels.subarray(0, limit) };
}

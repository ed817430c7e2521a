// A validation split held out of the training set (Keras' validation_split): which examples it
// takes follows from the seed alone, so a resumed run, or a run started again from its config,
// holds out the same ones, and no step ever trains on them.
import { DataError } from './errors.js';
import { mixSeeds, seededPermutation } from './rng.js';
import type { Split } from './types.js';

/** Mixed into the run's seed, so the held-out examples do not follow the first epoch's order. */
const VALIDATION_SEED_SALT = 0x7a11d;

export interface ValidationSplit {
  /** Training examples left to train on, ascending indices into the split. */
  trainIndices: Int32Array;
  /** The held-out examples, as a split of their own. */
  validation: Split;
}

/**
 * How many examples `valSplit` holds out of `count`: a fraction in (0, 1) of them (rounded, at
 * least one), or a count when it is an integer of 1 or more.
 */
export function validationCount(valSplit: number, count: number): number {
  if (!(valSplit > 0) || (valSplit >= 1 && !Number.isInteger(valSplit))) {
    throw new DataError('DATA_VALIDATION_SPLIT', `--val-split must be a fraction in (0, 1) or a whole number of examples, got ${valSplit}`);
  }
  const held = valSplit < 1 ? Math.max(1, Math.round(valSplit * count)) : valSplit;
  if (held >= count) {
    throw new DataError('DATA_VALIDATION_SPLIT', `--val-split ${valSplit} holds out ${held} of the ${count} training examples, leaving none to train on; lower it or raise --train-limit`);
  }
  return held;
}

/** Holds `valSplit` of `split` out, chosen by `seed`. */
export function splitValidation(split: Split, valSplit: number, seed: number): ValidationSplit {
  const held = validationCount(valSplit, split.count);
  const order = seededPermutation(split.count, mixSeeds(seed, VALIDATION_SEED_SALT));
  const heldOut = order.slice(0, held).sort();
  const trainIndices = order.slice(held).sort();
  const pixels = split.rows * split.cols;
  const images = new Uint8Array(held * pixels);
  const labels = new Uint8Array(held);
  heldOut.forEach((example, k) => {
    images.set(split.images.subarray(example * pixels, (example + 1) * pixels), k * pixels);
    labels[k] = split.labels[example];
  });
  return { trainIndices, validation: { images, labels, count: held, rows: split.rows, cols: split.cols } };
}

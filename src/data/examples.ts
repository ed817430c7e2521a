// ExampleSource: what batching needs of a training split, one example at a time. A split held in
// memory is one; a distributed worker's reader of the cache file (cachedExamples.ts) is another,
// so that a worker holds only the examples it is asked for.
import type { Split } from './types.js';

export interface ExampleSource {
  count: number;
  rows: number;
  cols: number;
  /** rows * cols grey levels of example `index`; valid until the next call. */
  image(index: number): Uint8Array;
  label(index: number): number;
}

export function splitExamples(split: Split): ExampleSource {
  const pixels = split.rows * split.cols;
  return {
    count: split.count,
    rows: split.rows,
    cols: split.cols,
    image: (index) => split.images.subarray(index * pixels, (index + 1) * pixels),
    label: (index) => split.labels[index],
  };
}

// The in-memory shape of a dataset, shared by the loader, the cache and batching.

/** Classes in MNIST and in MNIST-format sets such as Fashion-MNIST. */
export const MNIST_NUM_CLASSES = 10;

export interface Split {
  /** count * rows * cols grey levels 0..255, row-major, one image after another. */
  images: Uint8Array;
  /** count class ids, each in 0..numClasses-1. */
  labels: Uint8Array;
  count: number;
  rows: number;
  cols: number;
}

export interface Dataset {
  /** Short name used in logs and in the cache file name, e.g. 'mnist', 'fashion-mnist'. */
  name: string;
  train: Split;
  test: Split;
  numClasses: number;
  /** Absolute folder the IDX files were read from. */
  source: string;
  /** True when this load was served by the binary cache rather than the IDX files. */
  fromCache: boolean;
}

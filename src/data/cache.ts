// Binary cache of a verified dataset, so later loads skip IDX parsing and gunzip.
// Layout (little-endian):
//   'DSDC' | version u32 | numClasses u32 | rows u32 | cols u32 | trainCount u32 | testCount u32
//   | train images | train labels | test images | test labels | sha256 of everything before it
// Files are named <name>.<key>.bin where key hashes the source paths, sizes and mtimes, so a
// changed source gets a new cache instead of a stale one. Writes are atomic and durable (writeFileAtomic) so
// concurrent workers on one machine never see half a file.

import { createHash } from 'node:crypto';
import { mkdir, open, readFile, stat, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { sha256, sha256Hex, writeFileAtomic } from '../files/durableFs.js';
import { DataError } from './errors.js';
import type { Split } from './types.js';
import { checkLabelRange } from './verify.js';

export const CACHE_MAGIC = 'DSDC';
export const CACHE_VERSION = 1;
const HEADER_FIELDS = 6;
const CACHE_HEADER_BYTES = CACHE_MAGIC.length + 4 * HEADER_FIELDS;
const CHECKSUM_BYTES = 32;
const VERIFY_CHUNK_BYTES = 1 << 20;
const CHECKSUM_MISMATCH = 'checksum mismatch, the file was modified or partly written';
const KEY_HEX_CHARS = 16;
/** Labels are single bytes. */
const MAX_LABEL_VALUES = 256;

export interface CachedData {
  numClasses: number;
  train: Split;
  test: Split;
}

/** Key of a cache entry: changes whenever any source file is replaced or the format changes. */
export async function cacheKey(sourceFiles: string[]): Promise<string> {
  const parts = await Promise.all(
    sourceFiles.map(async (file) => {
      const s = await stat(file);
      return [file, s.size, s.mtimeMs];
    }),
  );
  const text = JSON.stringify({ version: CACHE_VERSION, parts });
  return sha256Hex(text).slice(0, KEY_HEX_CHARS);
}

export function cacheFilePath(cacheDir: string, name: string, key: string): string {
  return join(cacheDir, `${name}.${key}.bin`);
}

export function encodeCache(data: CachedData): Uint8Array {
  const { train, test } = data;
  const payload = [train.images, train.labels, test.images, test.labels];
  const bodyBytes = CACHE_HEADER_BYTES + payload.reduce((n, a) => n + a.length, 0);
  const out = new Uint8Array(bodyBytes + CHECKSUM_BYTES);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode(CACHE_MAGIC), 0);
  const header = [CACHE_VERSION, data.numClasses, train.rows, train.cols, train.count, test.count];
  header.forEach((v, i) => view.setUint32(CACHE_MAGIC.length + 4 * i, v, true));
  let offset = CACHE_HEADER_BYTES;
  for (const part of payload) {
    out.set(part, offset);
    offset += part.length;
  }
  out.set(sha256(out.subarray(0, bodyBytes)), bodyBytes);
  return out;
}

/** Where each part of a cache file lies, from its header. */
export interface CacheLayout {
  numClasses: number;
  rows: number;
  cols: number;
  trainCount: number;
  testCount: number;
  /** Byte offsets of the four payload parts. */
  offsets: { trainImages: number; trainLabels: number; testImages: number; testLabels: number };
  /** Bytes covered by the checksum (header and payload); the checksum follows them. */
  bodyBytes: number;
}

export function cacheCorrupt(file: string, what: string): DataError {
  return new DataError('CACHE_CORRUPT', `${file}: ${what}; delete it and it will be rebuilt`, file);
}

/** Reads and checks the header (the first CACHE_HEADER_BYTES or more of the file). */
function parseCacheHeader(head: Uint8Array, fileBytes: number, file: string): CacheLayout {
  if (fileBytes < CACHE_HEADER_BYTES + CHECKSUM_BYTES) {
    throw cacheCorrupt(file, `${fileBytes} bytes, shorter than the ${CACHE_HEADER_BYTES}-byte header and checksum`);
  }
  const magic = new TextDecoder().decode(head.subarray(0, CACHE_MAGIC.length));
  if (magic !== CACHE_MAGIC) throw cacheCorrupt(file, `expected magic '${CACHE_MAGIC}', got '${magic}'`);
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const field = (i: number): number => view.getUint32(CACHE_MAGIC.length + 4 * i, true);
  const [version, numClasses, rows, cols, trainCount, testCount] = Array.from({ length: HEADER_FIELDS }, (_, i) => field(i));
  if (version !== CACHE_VERSION) throw cacheCorrupt(file, `format version ${version}, expected ${CACHE_VERSION}`);
  // The same shape checks an IDX source gets (verify.ts): a header rewritten along with its
  // checksum must not pass where the IDX files would not.
  if (numClasses < 1 || numClasses > MAX_LABEL_VALUES) throw cacheCorrupt(file, `header declares ${numClasses} classes, expected 1..${MAX_LABEL_VALUES}`);
  if (rows === 0 || cols === 0 || trainCount === 0 || testCount === 0) {
    throw cacheCorrupt(file, `header declares an empty split (rows ${rows}, cols ${cols}, ${trainCount} train and ${testCount} test images)`);
  }
  const pixels = rows * cols;
  const trainImages = CACHE_HEADER_BYTES;
  const trainLabels = trainImages + trainCount * pixels;
  const testImages = trainLabels + trainCount;
  const testLabels = testImages + testCount * pixels;
  const bodyBytes = testLabels + testCount;
  if (fileBytes !== bodyBytes + CHECKSUM_BYTES) {
    throw cacheCorrupt(file, `header promises ${bodyBytes + CHECKSUM_BYTES} bytes, the file has ${fileBytes}`);
  }
  return {
    numClasses,
    rows,
    cols,
    trainCount,
    testCount,
    offsets: { trainImages, trainLabels, testImages, testLabels },
    bodyBytes,
  };
}

/** Decodes and validates a cache file; any inconsistency is CACHE_CORRUPT naming the file. */
export function decodeCache(bytes: Uint8Array, file: string, expectedClasses?: number): CachedData {
  const layout = parseCacheHeader(bytes, bytes.length, file);
  const { rows, cols, numClasses, bodyBytes, offsets } = layout;
  if (!equalBytes(sha256(bytes.subarray(0, bodyBytes)), bytes.subarray(bodyBytes))) {
    throw cacheCorrupt(file, CHECKSUM_MISMATCH);
  }
  const part = (offset: number, n: number): Uint8Array => bytes.slice(offset, offset + n);
  const pixels = rows * cols;
  const split = (count: number, images: number, labels: number): Split => ({
    images: part(images, count * pixels),
    labels: part(labels, count),
    count,
    rows,
    cols,
  });
  const train = split(layout.trainCount, offsets.trainImages, offsets.trainLabels);
  const test = split(layout.testCount, offsets.testImages, offsets.testLabels);
  checkCachedLabels(train.labels, test.labels, layout, file, expectedClasses);
  return { numClasses, train, test };
}

/** A cache file held open after its checksum was verified; read on through `handle`. */
export interface OpenCache {
  file: string;
  handle: FileHandle;
  layout: CacheLayout;
}

/**
 * Opens a cache file and checks its size, header and checksum by streaming it through sha256,
 * so that a reader can trust it without holding it in memory. Undefined when there is no file;
 * CACHE_CORRUPT (file closed) when it is bad.
 */
export async function openVerifiedCache(file: string, expectedClasses?: number): Promise<OpenCache | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return { file, handle, layout: await verifyOpenCache(handle, file, expectedClasses) };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

async function verifyOpenCache(handle: FileHandle, file: string, expectedClasses?: number): Promise<CacheLayout> {
  const { size } = await handle.stat();
  const head = new Uint8Array(CACHE_HEADER_BYTES);
  await handle.read(head, 0, Math.min(size, CACHE_HEADER_BYTES), 0);
  const layout = parseCacheHeader(head, size, file);
  const hash = createHash('sha256');
  const chunk = new Uint8Array(VERIFY_CHUNK_BYTES);
  for (let at = 0; at < layout.bodyBytes; ) {
    const { bytesRead } = await handle.read(chunk, 0, Math.min(chunk.length, layout.bodyBytes - at), at);
    if (bytesRead === 0) throw cacheCorrupt(file, `ends at byte ${at} while being read`);
    hash.update(chunk.subarray(0, bytesRead));
    at += bytesRead;
  }
  const stored = new Uint8Array(CHECKSUM_BYTES);
  await handle.read(stored, 0, CHECKSUM_BYTES, layout.bodyBytes);
  if (!equalBytes(hash.digest(), stored)) throw cacheCorrupt(file, CHECKSUM_MISMATCH);
  const trainLabels = new Uint8Array(layout.trainCount);
  const testLabels = new Uint8Array(layout.testCount);
  await handle.read(trainLabels, 0, trainLabels.length, layout.offsets.trainLabels);
  await handle.read(testLabels, 0, testLabels.length, layout.offsets.testLabels);
  checkCachedLabels(trainLabels, testLabels, layout, file, expectedClasses);
  return layout;
}

/** Returns undefined when there is no cache file; throws CACHE_CORRUPT when there is a bad one. */
export async function readCache(file: string, expectedClasses?: number): Promise<CachedData | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return decodeCache(bytes, file, expectedClasses);
}

export async function writeCacheAtomic(file: string, bytes: Uint8Array): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFileAtomic(file, bytes);
}

/**
 * A checksum proves only that the file is what its writer wrote: the labels get the range check
 * the IDX files get, against the class count the reader expects (not only the header's own).
 */
function checkCachedLabels(train: Uint8Array, test: Uint8Array, layout: CacheLayout, file: string, expectedClasses?: number): void {
  if (expectedClasses !== undefined && layout.numClasses !== expectedClasses) {
    throw cacheCorrupt(file, `header declares ${layout.numClasses} classes, this dataset has ${expectedClasses}`);
  }
  for (const [labels, split] of [[train, 'train'], [test, 'test']] as const) {
    try {
      checkLabelRange(labels, layout.numClasses, `${split} labels`);
    } catch (err) {
      throw cacheCorrupt(file, (err as Error).message);
    }
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

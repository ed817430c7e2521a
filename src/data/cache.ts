// Binary cache of a verified dataset, so later loads skip IDX parsing and gunzip.
// Layout (little-endian):
//   'DSDC' | version u32 | numClasses u32 | rows u32 | cols u32 | trainCount u32 | testCount u32
//   | train images | train labels | test images | test labels | sha256 of everything before it
// Files are named <name>.<key>.bin where key hashes the source paths, sizes and mtimes, so a
// changed source gets a new cache instead of a stale one. Writes are atomic (temp + rename) so
// concurrent workers on one machine never see half a file.

import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DataError } from './errors.js';
import type { Split } from './types.js';

export const CACHE_MAGIC = 'DSDC';
export const CACHE_VERSION = 1;
const HEADER_FIELDS = 6;
const HEADER_BYTES = CACHE_MAGIC.length + 4 * HEADER_FIELDS;
const CHECKSUM_BYTES = 32;
const KEY_HEX_CHARS = 16;

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
  return createHash('sha256').update(text).digest('hex').slice(0, KEY_HEX_CHARS);
}

export function cacheFilePath(cacheDir: string, name: string, key: string): string {
  return join(cacheDir, `${name}.${key}.bin`);
}

export function encodeCache(data: CachedData): Uint8Array {
  const { train, test } = data;
  const payload = [train.images, train.labels, test.images, test.labels];
  const bodyBytes = HEADER_BYTES + payload.reduce((n, a) => n + a.length, 0);
  const out = new Uint8Array(bodyBytes + CHECKSUM_BYTES);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode(CACHE_MAGIC), 0);
  const header = [CACHE_VERSION, data.numClasses, train.rows, train.cols, train.count, test.count];
  header.forEach((v, i) => view.setUint32(CACHE_MAGIC.length + 4 * i, v, true));
  let offset = HEADER_BYTES;
  for (const part of payload) {
    out.set(part, offset);
    offset += part.length;
  }
  out.set(sha256(out.subarray(0, bodyBytes)), bodyBytes);
  return out;
}

/** Decodes and validates a cache file; any inconsistency is CACHE_CORRUPT naming the file. */
export function decodeCache(bytes: Uint8Array, file: string): CachedData {
  const corrupt = (what: string): DataError =>
    new DataError('CACHE_CORRUPT', `${file}: ${what}; delete it and it will be rebuilt`, file);
  if (bytes.length < HEADER_BYTES + CHECKSUM_BYTES) {
    throw corrupt(`${bytes.length} bytes, shorter than the ${HEADER_BYTES}-byte header and checksum`);
  }
  const magic = new TextDecoder().decode(bytes.subarray(0, CACHE_MAGIC.length));
  if (magic !== CACHE_MAGIC) throw corrupt(`expected magic '${CACHE_MAGIC}', got '${magic}'`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const field = (i: number): number => view.getUint32(CACHE_MAGIC.length + 4 * i, true);
  const [version, numClasses, rows, cols, trainCount, testCount] = Array.from(
    { length: HEADER_FIELDS },
    (_, i) => field(i),
  );
  if (version !== CACHE_VERSION) throw corrupt(`format version ${version}, expected ${CACHE_VERSION}`);
  const pixels = rows * cols;
  const bodyBytes = HEADER_BYTES + (trainCount + testCount) * (pixels + 1);
  if (bytes.length !== bodyBytes + CHECKSUM_BYTES) {
    throw corrupt(`header promises ${bodyBytes + CHECKSUM_BYTES} bytes, the file has ${bytes.length}`);
  }
  const stored = bytes.subarray(bodyBytes);
  if (!equalBytes(sha256(bytes.subarray(0, bodyBytes)), stored)) {
    throw corrupt('checksum mismatch, the file was modified or partly written');
  }
  let offset = HEADER_BYTES;
  const take = (n: number): Uint8Array => bytes.slice(offset, (offset += n));
  const split = (count: number): Split => ({
    images: take(count * pixels),
    labels: take(count),
    count,
    rows,
    cols,
  });
  const train = split(trainCount);
  const test = split(testCount);
  return { numClasses, train, test };
}

/** Returns undefined when there is no cache file; throws CACHE_CORRUPT when there is a bad one. */
export async function readCache(file: string): Promise<CachedData | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return decodeCache(bytes, file);
}

export async function writeCacheAtomic(file: string, bytes: Uint8Array): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temp, bytes);
    await rename(temp, file);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
}

function sha256(bytes: Uint8Array): Uint8Array {
  return createHash('sha256').update(bytes).digest();
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { DataError } from '../../src/data/errors.js';
import { parseIdx, readIdxFile } from '../../src/data/idx.js';
import { encodeIdx, IDX_INT32, IDX_UBYTE, removeTempDirs, tempDir } from './fixtures.js';

afterAll(removeTempDirs);

function expectDataError(fn: () => unknown, code: string, file: string): DataError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DataError);
    const e = err as DataError;
    expect(e.code).toBe(code);
    expect(e.file).toBe(file);
    expect(e.message).toContain(file);
    return e;
  }
  throw new Error(`expected DataError ${code}`);
}

describe('parseIdx', () => {
  it('decodes a ubyte file with big-endian dims', () => {
    const bytes = encodeIdx(IDX_UBYTE, [2, 3, 300], Array.from({ length: 1800 }, (_, i) => i % 256));
    const arr = parseIdx(bytes, 'imgs');
    expect(arr.dtype).toBe('uint8');
    expect(arr.dims).toEqual([2, 3, 300]);
    expect(arr.data).toBeInstanceOf(Uint8Array);
    expect(arr.data[257]).toBe(1);
    expect(arr.data.length).toBe(1800);
  });

  it('decodes big-endian int32 values', () => {
    const arr = parseIdx(encodeIdx(IDX_INT32, [3], [1, -2, 70000]), 'ints');
    expect(arr.dtype).toBe('int32');
    expect(Array.from(arr.data)).toEqual([1, -2, 70000]);
  });

  it('inflates gzipped input transparently', () => {
    const raw = encodeIdx(IDX_UBYTE, [4], [9, 8, 7, 6]);
    const arr = parseIdx(gzipSync(raw), 'labels.gz');
    expect(Array.from(arr.data)).toEqual([9, 8, 7, 6]);
  });

  it('rejects a bad magic naming the file', () => {
    const bytes = encodeIdx(IDX_UBYTE, [1], [0]);
    bytes[0] = 0x50;
    expectDataError(() => parseIdx(bytes, 'notidx.bin'), 'IDX_BAD_MAGIC', 'notidx.bin');
  });

  it('rejects an unsupported dtype byte', () => {
    const bytes = encodeIdx(IDX_UBYTE, [1], [0]);
    bytes[2] = 0x0a;
    const e = expectDataError(() => parseIdx(bytes, 'odd.idx'), 'IDX_UNSUPPORTED_DTYPE', 'odd.idx');
    expect(e.message).toContain('0x0a');
  });

  it('rejects a truncated payload', () => {
    const bytes = encodeIdx(IDX_UBYTE, [10], Array(10).fill(1)).subarray(0, 12);
    expectDataError(() => parseIdx(bytes, 'short.idx'), 'IDX_TRUNCATED', 'short.idx');
  });

  it('rejects a truncated header', () => {
    const bytes = encodeIdx(IDX_UBYTE, [10, 10, 10], []).subarray(0, 9);
    expectDataError(() => parseIdx(bytes, 'hdr.idx'), 'IDX_TRUNCATED', 'hdr.idx');
  });

  it('rejects trailing bytes', () => {
    const good = encodeIdx(IDX_UBYTE, [2], [1, 2]);
    const bytes = new Uint8Array(good.length + 3);
    bytes.set(good);
    const e = expectDataError(() => parseIdx(bytes, 'long.idx'), 'IDX_SIZE_MISMATCH', 'long.idx');
    expect(e.message).toContain('3 trailing bytes');
  });

  it('rejects a corrupt gzip stream naming the file', () => {
    const gz = gzipSync(encodeIdx(IDX_UBYTE, [100], Array(100).fill(3)));
    const broken = gz.subarray(0, gz.length - 10);
    expectDataError(() => parseIdx(broken, 'cut.gz'), 'IDX_BAD_GZIP', 'cut.gz');
  });
});

describe('readIdxFile', () => {
  it('reads a file from disk', async () => {
    const dir = await tempDir('idx');
    const file = join(dir, 'x-idx1-ubyte');
    await writeFile(file, encodeIdx(IDX_UBYTE, [2], [5, 6]));
    expect(Array.from((await readIdxFile(file)).data)).toEqual([5, 6]);
  });

  it('reports a missing file as DATA_MISSING_FILE naming the path', async () => {
    const file = join(tmpdir(), 'dsdc-no-such-file-idx');
    await expect(readIdxFile(file)).rejects.toMatchObject({ code: 'DATA_MISSING_FILE', file });
  });
});

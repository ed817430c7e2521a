import { describe, expect, it } from 'vitest';
import { CACHE_VERSION, decodeCache, encodeCache } from '../../src/data/cache.js';
import type { CachedData } from '../../src/data/cache.js';

function tinyData(): CachedData {
  const split = (count: number, base: number) => ({
    images: Uint8Array.from({ length: count * 6 }, (_, i) => (base + i) % 256),
    labels: Uint8Array.from({ length: count }, (_, i) => i % 10),
    count,
    rows: 2,
    cols: 3,
  });
  return { numClasses: 10, train: split(5, 0), test: split(2, 100) };
}

function expectCorrupt(bytes: Uint8Array, fragment: string): void {
  const message = expect.stringContaining(fragment);
  expect(() => decodeCache(bytes, 'c.bin')).toThrow(
    expect.objectContaining({ code: 'CACHE_CORRUPT', file: 'c.bin', message }),
  );
}

describe('dataset cache format', () => {
  it('round-trips a dataset exactly', () => {
    const data = tinyData();
    expect(decodeCache(encodeCache(data), 'c.bin')).toEqual(data);
  });

  it('starts with the DSDC magic and the format version', () => {
    const bytes = encodeCache(tinyData());
    expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe('DSDC');
    expect(new DataView(bytes.buffer).getUint32(4, true)).toBe(CACHE_VERSION);
  });

  it('rejects a wrong magic', () => {
    const bytes = encodeCache(tinyData());
    bytes[0] = 0x58;
    expectCorrupt(bytes, "expected magic 'DSDC'");
  });

  it('rejects another format version', () => {
    const bytes = encodeCache(tinyData());
    new DataView(bytes.buffer).setUint32(4, CACHE_VERSION + 1, true);
    expectCorrupt(bytes, 'format version');
  });

  it('rejects a truncated file', () => {
    const bytes = encodeCache(tinyData());
    expectCorrupt(bytes.subarray(0, bytes.length - 1), 'header promises');
    expectCorrupt(bytes.subarray(0, 10), 'shorter than');
  });

  it('rejects a flipped payload byte by checksum', () => {
    const bytes = encodeCache(tinyData());
    bytes[40] ^= 1;
    expectCorrupt(bytes, 'checksum mismatch');
  });
});

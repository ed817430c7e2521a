// IDX reader (the format of the MNIST files): magic, big-endian dims, big-endian payload.
// Owns decoding only; what the arrays must look like for a dataset is checked in verify.ts.
// Gzipped input (magic 1f 8b) is inflated transparently.

import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { DataError } from './errors.js';

export type IdxDtype = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';
export type IdxTypedArray =
  | Uint8Array
  | Int8Array
  | Int16Array
  | Int32Array
  | Float32Array
  | Float64Array;

export interface IdxArray {
  dtype: IdxDtype;
  dims: number[];
  /** Row-major values in host order; always owns its buffer (byteOffset 0). */
  data: IdxTypedArray;
}

/** Inflated IDX files larger than this are refused rather than exhausting memory. */
export const MAX_INFLATED_BYTES = 1 << 30;

const GZIP_MAGIC = [0x1f, 0x8b] as const;
const MAGIC_BYTES = 4;
const DIM_BYTES = 4;

interface DtypeSpec {
  dtype: IdxDtype;
  bytes: number;
  read: (view: DataView, offset: number) => number;
  make: (n: number) => IdxTypedArray;
}

// Registry of the IDX type bytes; adding a type is adding a row.
const DTYPES: ReadonlyMap<number, DtypeSpec> = new Map<number, DtypeSpec>([
  [0x08, { dtype: 'uint8', bytes: 1, read: (v, o) => v.getUint8(o), make: (n) => new Uint8Array(n) }],
  [0x09, { dtype: 'int8', bytes: 1, read: (v, o) => v.getInt8(o), make: (n) => new Int8Array(n) }],
  [0x0b, { dtype: 'int16', bytes: 2, read: (v, o) => v.getInt16(o), make: (n) => new Int16Array(n) }],
  [0x0c, { dtype: 'int32', bytes: 4, read: (v, o) => v.getInt32(o), make: (n) => new Int32Array(n) }],
  [0x0d, { dtype: 'float32', bytes: 4, read: (v, o) => v.getFloat32(o), make: (n) => new Float32Array(n) }],
  [0x0e, { dtype: 'float64', bytes: 8, read: (v, o) => v.getFloat64(o), make: (n) => new Float64Array(n) }],
]);

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1];
}

function inflate(bytes: Uint8Array, fileName: string): Uint8Array {
  try {
    return gunzipSync(bytes, { maxOutputLength: MAX_INFLATED_BYTES });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new DataError(
      'IDX_BAD_GZIP',
      `${fileName}: starts with the gzip magic but could not be inflated (${reason}); ` +
        `the download is probably incomplete, fetch the file again`,
      fileName,
    );
  }
}

function hex(byte: number | undefined): string {
  return `0x${(byte ?? 0).toString(16).padStart(2, '0')}`;
}

/** Decodes an IDX file (raw or gzipped). `fileName` is only used in error messages. */
export function parseIdx(input: Uint8Array, fileName: string): IdxArray {
  const bytes = isGzip(input) ? inflate(input, fileName) : input;
  if (bytes.length < MAGIC_BYTES) {
    throw new DataError(
      'IDX_TRUNCATED',
      `${fileName}: ${bytes.length} bytes, shorter than the 4-byte IDX magic; the file is truncated`,
      fileName,
    );
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new DataError(
      'IDX_BAD_MAGIC',
      `${fileName}: expected an IDX file starting with two zero bytes, ` +
        `got ${hex(bytes[0])} ${hex(bytes[1])}; is this an MNIST-format file?`,
      fileName,
    );
  }
  const spec = DTYPES.get(bytes[2]);
  if (spec === undefined) {
    const known = [...DTYPES].map(([code, s]) => `${hex(code)} (${s.dtype})`).join(', ');
    throw new DataError(
      'IDX_UNSUPPORTED_DTYPE',
      `${fileName}: IDX type byte ${hex(bytes[2])} is not one of ${known}`,
      fileName,
    );
  }
  const ndims = bytes[3];
  const headerBytes = MAGIC_BYTES + ndims * DIM_BYTES;
  if (bytes.length < headerBytes) {
    throw new DataError(
      'IDX_TRUNCATED',
      `${fileName}: header declares ${ndims} dims (${headerBytes} header bytes) but the file has only ` +
        `${bytes.length} bytes; the file is truncated`,
      fileName,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let d = 0; d < ndims; d++) dims.push(view.getUint32(MAGIC_BYTES + d * DIM_BYTES));
  const count = dims.reduce((a, b) => a * b, 1);
  const expected = headerBytes + count * spec.bytes;
  if (bytes.length !== expected) {
    const what =
      `${fileName}: dims [${dims.join(', ')}] of ${spec.dtype} need ${expected} bytes, ` +
      `the file has ${bytes.length}`;
    if (bytes.length < expected) {
      throw new DataError('IDX_TRUNCATED', `${what}; the file is truncated, fetch it again`, fileName);
    }
    throw new DataError(
      'IDX_SIZE_MISMATCH',
      `${what}; ${bytes.length - expected} trailing bytes, the header and the payload disagree`,
      fileName,
    );
  }
  return { dtype: spec.dtype, dims, data: decodePayload(bytes, view, headerBytes, count, spec) };
}

function decodePayload(
  bytes: Uint8Array,
  view: DataView,
  offset: number,
  count: number,
  spec: DtypeSpec,
): IdxTypedArray {
  if (spec.dtype === 'uint8') return bytes.slice(offset, offset + count);
  const out = spec.make(count);
  for (let i = 0; i < count; i++) out[i] = spec.read(view, offset + i * spec.bytes);
  return out;
}

/** Reads and decodes one IDX file; a missing file is a DataError naming the path. */
export async function readIdxFile(path: string): Promise<IdxArray> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new DataError('DATA_MISSING_FILE', `${path}: cannot read IDX file (${reason})`, path);
  }
  return parseIdx(bytes, path);
}

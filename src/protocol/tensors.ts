// Tensors on the wire: raw little-endian bytes of one element type (float32, float16 or
// bfloat16) with a name and shape, conversion to and from Float32Array, and the checks a
// receiver runs against the tensors it expects.

import { BYTES_PER_WIRE_ELEMENT, DEFAULT_WIRE_DTYPE, type WireDtype } from './constants.js';
import { protocolError, type ProtocolError } from './errors.js';
import { bfloat16ToFloat32, float16ToFloat32, float32ToBfloat16, float32ToFloat16, isBfloat16NonFinite, isFloat16NonFinite } from './reducedPrecision.js';
import type { WireTensor } from './schemas.js';

/** name, shape, dtype and (bytes per element) × prod(shape) little-endian bytes (after decoding a view into the frame); its schema is schemas.ts'. */
export type { WireTensor } from './schemas.js';
export type { WireDtype } from './constants.js';
export interface TensorSpec {
  name: string;
  shape: readonly number[];
}

export interface CheckTensorsOptions {
  /** Tensors may be a subset of the specs (e.g. a partial `weights` update). Default false. */
  allowSubset?: boolean;
  /** Every spec must have a tensor. Default: `!allowSubset`. */
  requireAll?: boolean;
  /** Also refuse NaN and ±Infinity values (NON_FINITE). Default false: it reads every value. */
  requireFinite?: boolean;
  /** The element type accepted, one for all or by name (variableDtypes.ts). Default float32. */
  dtype?: WireDtype | ((name: string) => WireDtype);
}

export const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function elementCount(shape: readonly number[]): number {
  let count = 1;
  for (const dim of shape) count *= dim;
  return count;
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Bytes the data of a tensor of `shape` holds in `dtype`. */
export function tensorDataBytes(dtype: WireDtype, shape: readonly number[]): number {
  return BYTES_PER_WIRE_ELEMENT[dtype] * elementCount(shape);
}

/**
 * Wraps `values` as a wire tensor of `dtype` (default float32). For float32 on little-endian
 * hosts `data` is a view of `values`' memory (no copy), so `values` must not change until the
 * message is encoded; float16 and bfloat16 round to nearest even into fresh bytes, finite values
 * beyond their range saturating to the largest finite one (reducedPrecision.ts).
 * Throws RangeError when `values.length` is not prod(shape): that is a bug in the caller.
 */
export function encodeTensor(name: string, shape: readonly number[], values: Float32Array, dtype: WireDtype = DEFAULT_WIRE_DTYPE): WireTensor {
  const expected = elementCount(shape);
  if (values.length !== expected) {
    throw new RangeError(
      `encodeTensor('${name}'): shape ${formatShape(shape)} holds ${expected} values, got ${values.length}`,
    );
  }
  const data =
    dtype === 'float32' ? float32Bytes(values) : uint16Bytes(dtype === 'float16' ? float32ToFloat16(values) : float32ToBfloat16(values));
  return { name, shape: [...shape], dtype, data };
}

/**
 * The tensor's values as float32. For float32 a view of `t.data` when it is 4-byte aligned (and
 * the host little-endian), else a copy: a bin field inside a msgpack frame starts at any byte
 * offset. float16 and bfloat16 decode exactly into a fresh array.
 * Assumes a validated tensor (data length = bytes per element × prod(shape)).
 */
export function decodeTensorValues(t: WireTensor): Float32Array {
  if (t.dtype === 'float16') return float16ToFloat32(uint16Values(t.data));
  if (t.dtype === 'bfloat16') return bfloat16ToFloat32(uint16Values(t.data));
  const { data } = t;
  const bytesPerElement = BYTES_PER_WIRE_ELEMENT.float32;
  const count = data.byteLength / bytesPerElement;
  if (!HOST_IS_LITTLE_ENDIAN) {
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const values = new Float32Array(count);
    for (let i = 0; i < count; i++) values[i] = view.getFloat32(i * bytesPerElement, true);
    return values;
  }
  if (data.byteOffset % bytesPerElement === 0) return new Float32Array(data.buffer, data.byteOffset, count);
  return new Float32Array(data.slice().buffer, 0, count);
}

/**
 * Checks received tensors against the ones expected (by name and shape). Returns the first problem:
 * a duplicate name, an unknown name, a dtype other than `options.dtype`, a shape mismatch, a data
 * length that is not (bytes per element) × prod(shape), (unless a subset is allowed) an expected tensor that is missing, and (if asked)
 * a NaN or infinite value.
 */
export function checkTensors(
  tensors: readonly WireTensor[],
  specs: ReadonlyMap<string, readonly number[]> | readonly TensorSpec[],
  options: CheckTensorsOptions = {},
): ProtocolError | null {
  const expected = specs instanceof Map ? specs : new Map((specs as readonly TensorSpec[]).map((s) => [s.name, s.shape]));
  const requireAll = options.requireAll ?? !options.allowSubset;
  const given = options.dtype ?? DEFAULT_WIRE_DTYPE;
  const dtypeOf = typeof given === 'function' ? given : () => given;
  const seen = new Set<string>();
  for (const t of tensors) {
    if (seen.has(t.name)) return protocolError('BAD_TENSOR', `tensor '${t.name}' appears more than once`);
    seen.add(t.name);
    const shape = expected.get(t.name);
    if (shape === undefined) {
      return protocolError('UNKNOWN_TENSOR', `tensor '${t.name}' is not one of the ${expected.size} expected tensors`);
    }
    const dtype = dtypeOf(t.name);
    if (t.dtype !== dtype) {
      return protocolError('BAD_TENSOR', `tensor '${t.name}': expected dtype '${dtype}' (this run's for that variable), got '${String(t.dtype)}'`);
    }
    if (!sameShape(t.shape, shape)) {
      return protocolError(
        'SHAPE_MISMATCH',
        `tensor '${t.name}': expected shape ${formatShape(shape)}, got ${formatShape(t.shape)}`,
      );
    }
    const bytes = tensorDataBytes(dtype, shape);
    if (t.data.byteLength !== bytes) {
      return protocolError(
        'BAD_TENSOR',
        `tensor '${t.name}': shape ${formatShape(shape)} needs ${bytes} bytes of ${dtype} data, got ${t.data.byteLength}`,
      );
    }
  }
  if (requireAll && seen.size < expected.size) {
    const missing = [...expected.keys()].filter((name) => !seen.has(name));
    const listed = missing.slice(0, 5).map((n) => `'${n}'`).join(', ');
    const more = missing.length > 5 ? ` and ${missing.length - 5} more` : '';
    return protocolError('MISSING_TENSOR', `expected ${expected.size} tensors, missing ${listed}${more}`);
  }
  const nonFinite = options.requireFinite ? findNonFinite(tensors) : null;
  if (nonFinite !== null) return protocolError('NON_FINITE', `tensor '${nonFinite}' holds NaN or Infinity`);
  return null;
}

/** Name of the first tensor holding a NaN or ±Infinity, or null when all values are finite. */
export function findNonFinite(tensors: readonly WireTensor[]): string | null {
  for (const t of tensors) {
    if (t.dtype !== 'float32') {
      // The bit patterns say it without decoding: all exponent bits set.
      const isNonFinite = t.dtype === 'float16' ? isFloat16NonFinite : isBfloat16NonFinite;
      if (uint16Values(t.data).some(isNonFinite)) return t.name;
      continue;
    }
    const values = decodeTensorValues(t);
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i])) return t.name;
    }
  }
  return null;
}

/** Little-endian bytes of `values`: a view on little-endian hosts, a copy elsewhere. */
function float32Bytes(values: Float32Array): Uint8Array {
  if (HOST_IS_LITTLE_ENDIAN) return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const bytes = new Uint8Array(values.byteLength);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setFloat32(i * BYTES_PER_WIRE_ELEMENT.float32, v, true));
  return bytes;
}

/** Little-endian bytes of 16-bit values: a view on little-endian hosts, a copy elsewhere. */
function uint16Bytes(values: Uint16Array): Uint8Array {
  if (HOST_IS_LITTLE_ENDIAN) return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const bytes = new Uint8Array(values.byteLength);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setUint16(i * 2, v, true));
  return bytes;
}

/** 16-bit values of little-endian bytes (even length): a view where aligned, else a copy. */
function uint16Values(data: Uint8Array): Uint16Array {
  const count = data.byteLength / 2;
  if (!HOST_IS_LITTLE_ENDIAN) {
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    return Uint16Array.from({ length: count }, (_, i) => view.getUint16(i * 2, true));
  }
  if (data.byteOffset % 2 === 0) return new Uint16Array(data.buffer, data.byteOffset, count);
  return new Uint16Array(data.slice().buffer, 0, count);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((dim, i) => dim === b[i]);
}

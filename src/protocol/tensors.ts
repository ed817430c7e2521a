// Tensors on the wire: raw little-endian float32 bytes with a name and shape, conversion to and
// from Float32Array, and the checks a receiver runs against the tensors it expects.

import { BYTES_PER_ELEMENT, WIRE_DTYPE } from './constants.js';
import { protocolError, type ProtocolError } from './errors.js';
import type { WireTensor } from './schemas.js';

/** name, shape, dtype 'float32' and 4 × prod(shape) little-endian bytes (after decoding a view into the frame); its schema is schemas.ts'. */
export type { WireTensor } from './schemas.js';
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

/**
 * Wraps `values` as a wire tensor. On little-endian hosts `data` is a view of `values`' memory (no
 * copy), so `values` must not change until the message is encoded.
 * Throws RangeError when `values.length` is not prod(shape): that is a bug in the caller.
 */
export function encodeTensor(name: string, shape: readonly number[], values: Float32Array): WireTensor {
  const expected = elementCount(shape);
  if (values.length !== expected) {
    throw new RangeError(
      `encodeTensor('${name}'): shape ${formatShape(shape)} holds ${expected} values, got ${values.length}`,
    );
  }
  return { name, shape: [...shape], dtype: WIRE_DTYPE, data: float32Bytes(values) };
}

/**
 * The tensor's values. A view of `t.data` when it is 4-byte aligned (and the host little-endian),
 * else a copy: a bin field inside a msgpack frame starts at any byte offset.
 * Assumes a validated tensor (data length a multiple of 4).
 */
export function decodeTensorValues(t: WireTensor): Float32Array {
  const { data } = t;
  const count = data.byteLength / BYTES_PER_ELEMENT;
  if (!HOST_IS_LITTLE_ENDIAN) {
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const values = new Float32Array(count);
    for (let i = 0; i < count; i++) values[i] = view.getFloat32(i * BYTES_PER_ELEMENT, true);
    return values;
  }
  if (data.byteOffset % BYTES_PER_ELEMENT === 0) return new Float32Array(data.buffer, data.byteOffset, count);
  return new Float32Array(data.slice().buffer, 0, count);
}

/**
 * Checks received tensors against the ones expected (by name and shape). Returns the first problem:
 * a duplicate name, an unknown name, a wrong dtype, a shape mismatch, a data length that is not
 * 4 × prod(shape), (unless a subset is allowed) an expected tensor that is missing, and (if asked)
 * a NaN or infinite value.
 */
export function checkTensors(
  tensors: readonly WireTensor[],
  specs: ReadonlyMap<string, readonly number[]> | readonly TensorSpec[],
  options: CheckTensorsOptions = {},
): ProtocolError | null {
  const expected = specs instanceof Map ? specs : new Map((specs as readonly TensorSpec[]).map((s) => [s.name, s.shape]));
  const requireAll = options.requireAll ?? !options.allowSubset;
  const seen = new Set<string>();
  for (const t of tensors) {
    if (seen.has(t.name)) return protocolError('BAD_TENSOR', `tensor '${t.name}' appears more than once`);
    seen.add(t.name);
    const shape = expected.get(t.name);
    if (shape === undefined) {
      return protocolError('UNKNOWN_TENSOR', `tensor '${t.name}' is not one of the ${expected.size} expected tensors`);
    }
    if (t.dtype !== WIRE_DTYPE) {
      return protocolError('BAD_TENSOR', `tensor '${t.name}': expected dtype '${WIRE_DTYPE}', got '${String(t.dtype)}'`);
    }
    if (!sameShape(t.shape, shape)) {
      return protocolError(
        'SHAPE_MISMATCH',
        `tensor '${t.name}': expected shape ${formatShape(shape)}, got ${formatShape(t.shape)}`,
      );
    }
    const bytes = BYTES_PER_ELEMENT * elementCount(shape);
    if (t.data.byteLength !== bytes) {
      return protocolError(
        'BAD_TENSOR',
        `tensor '${t.name}': shape ${formatShape(shape)} needs ${bytes} bytes of data, got ${t.data.byteLength}`,
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
  values.forEach((v, i) => view.setFloat32(i * BYTES_PER_ELEMENT, v, true));
  return bytes;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((dim, i) => dim === b[i]);
}

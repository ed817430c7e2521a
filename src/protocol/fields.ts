// How a refused field is reported, and the checks of a message that no schema expresses: a
// tensor's data length against its shape, duplicate names, index lists, the JSON size of a map.
// validate.ts runs them after the schema; each stops validation with a ProtocolError naming the
// message, the field, what was expected and what came.

import type { DecodeLimits } from './constants.js';
import { protocolError, type ProtocolErrorCode } from './errors.js';
import { BYTES_PER_INDEX, indexListFromBytes } from './indexLists.js';
import type { WireTensor } from './schemas.js';
import { formatShape, tensorDataBytes } from './tensors.js';

/** Thrown by the checks and caught by validateMessage, which returns it as a value; it never escapes. */
export function fail(code: ProtocolErrorCode, message: string): never {
  throw protocolError(code, message);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** A short account of what came, for error messages. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'nil';
  switch (typeof value) {
    case 'string':
      return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
    case 'number':
    case 'boolean':
      return `${typeof value} ${String(value)}`;
    case 'bigint':
      return `integer ${value} (beyond 2^53)`;
  }
  if (value instanceof Uint8Array) return `binary of ${value.byteLength} bytes`;
  if (Array.isArray(value)) return `array of ${value.length}`;
  if (isPlainObject(value)) {
    const keys = Object.keys(value);
    return keys.length === 0 ? 'empty map' : `map with keys ${keys.slice(0, 6).join(', ')}${keys.length > 6 ? ', …' : ''}`;
  }
  const name = (value as object).constructor?.name;
  return typeof name === 'string' ? `${name} object` : typeof value;
}

/** The refusals of one message, each naming it: "'gradients' message, field 'timings.computeMs': …". */
export class MessageFields {
  /** e.g. "'gradients' message" */
  readonly owner: string;

  constructor(
    type: string,
    readonly limits: DecodeLimits,
  ) {
    this.owner = `'${type}' message`;
  }

  /** Stops validation: `field` holds something other than `expected`. */
  bad(field: string, expected: string, value: unknown, code: ProtocolErrorCode = 'BAD_FIELD'): never {
    fail(code, `${this.owner}, field '${field}': expected ${expected}, got ${describeValue(value)}`);
  }

  missing(field: string, code: ProtocolErrorCode = 'MISSING_FIELD'): never {
    fail(code, `${this.owner} has no field '${field}'`);
  }

  /** Schema-checked tensors: data of (bytes per element of its dtype) × prod(shape) bytes, names without duplicates. Returns plain views. */
  tensors(field: string, tensors: readonly WireTensor[]): WireTensor[] {
    const seen = new Set<string>();
    return tensors.map((t, i) => {
      const bytes = tensorDataBytes(t.dtype, t.shape);
      if (t.data.byteLength !== bytes) this.bad(`${field}[${i}].data`, `${bytes} bytes for ${t.dtype} tensor '${t.name}' of shape ${formatShape(t.shape)}`, t.data, 'BAD_TENSOR');
      if (seen.has(t.name)) this.bad(`${field}[${i}].name`, 'tensor names without duplicates', t.name, 'BAD_TENSOR');
      seen.add(t.name);
      // A plain Uint8Array view: Buffer's slice() shares memory where Uint8Array's copies.
      return { name: t.name, shape: [...t.shape], dtype: t.dtype, data: plainBytes(t.data) };
    });
  }

  /** Schema-checked names without duplicates. */
  names(field: string, names: readonly string[]): string[] {
    const seen = new Set<string>();
    names.forEach((name, i) => {
      if (seen.has(name)) this.bad(`${field}[${i}]`, 'names without duplicates', name);
      seen.add(name);
    });
    return [...names];
  }

  /** Schema-bounded bytes as little-endian int32 indices, each ≥ 0. */
  indices(field: string, bytes: Uint8Array): Int32Array {
    if (bytes.byteLength % BYTES_PER_INDEX !== 0) this.bad(field, 'binary of little-endian int32 indices (a multiple of 4 bytes)', bytes);
    const indices = indexListFromBytes(bytes);
    const negative = indices.findIndex((index) => index < 0);
    if (negative >= 0) this.bad(`${field}[${negative}]`, 'an index ≥ 0', indices[negative]);
    return indices;
  }

  /**
   * A map holding only JSON values (nil, booleans, finite numbers, strings of at most
   * maxTextLength, arrays, maps), at most maxJsonDepth deep and maxJsonNodes in all: run before
   * the schema walks it, so a hostile config cannot make that walk deep or long.
   */
  json(field: string, value: Record<string, unknown>): void {
    this.checkJson(value, field, 0, { nodes: this.limits.maxJsonNodes });
  }

  private checkJson(value: unknown, path: string, depth: number, budget: { nodes: number }): void {
    const { maxJsonNodes, maxJsonDepth, maxTextLength } = this.limits;
    if (--budget.nodes < 0) fail('BAD_FIELD', `${this.owner}, field '${path}': more than ${maxJsonNodes} JSON values`);
    if (value === null || typeof value === 'boolean') return;
    if (typeof value === 'number' && Number.isFinite(value)) return;
    if (typeof value === 'string' && value.length <= maxTextLength) return;
    if (!Array.isArray(value) && !isPlainObject(value)) {
      this.bad(path, `a JSON value (nil, boolean, finite number, string of at most ${maxTextLength} characters, array, map)`, value);
    }
    if (depth >= maxJsonDepth) fail('BAD_FIELD', `${this.owner}, field '${path}': JSON nested deeper than ${maxJsonDepth} levels`);
    if (Array.isArray(value)) value.forEach((item, i) => this.checkJson(item, `${path}[${i}]`, depth + 1, budget));
    else for (const [k, item] of Object.entries(value)) this.checkJson(item, `${path}.${k}`, depth + 1, budget);
  }
}

/** A plain Uint8Array view of the same bytes (a Buffer's subclass methods behave differently). */
export function plainBytes(data: Uint8Array): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

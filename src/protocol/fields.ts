// Typed reads of one decoded msgpack map: each read checks a field's presence, type and range and
// returns it typed, or stops validation with a ProtocolError naming the message, the field, what was
// expected and what came. validate.ts composes these into one schema per message type.

import { BYTES_PER_ELEMENT, WIRE_DTYPE, type DecodeLimits } from './constants.js';
import { protocolError, type ProtocolError, type ProtocolErrorCode } from './errors.js';
import { BYTES_PER_INDEX, indexListFromBytes } from './indexLists.js';
import type { JsonObject, JsonValue } from './messages.js';
import { elementCount, formatShape, type WireTensor } from './tensors.js';

/** Thrown by reads and caught by validateMessage, which turns it back into a value; it never escapes. */
export class InvalidMessage extends Error {
  constructor(readonly error: ProtocolError) {
    super(error.message);
  }
}

export function fail(code: ProtocolErrorCode, message: string): never {
  throw new InvalidMessage(protocolError(code, message));
}

const WORKER_ID = /^[A-Za-z0-9._:@-]+$/;
const MAX_UINT32 = 0xffff_ffff;

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

export class FieldReader {
  private constructor(
    private readonly record: Record<string, unknown>,
    /** e.g. "'gradients' message" */
    private readonly owner: string,
    /** '' at the top level, 'timings.' inside a nested map */
    private readonly prefix: string,
    readonly limits: DecodeLimits,
  ) {}

  static forMessage(record: Record<string, unknown>, type: string, limits: DecodeLimits): FieldReader {
    return new FieldReader(record, `'${type}' message`, '', limits);
  }

  /** The value of an own property (inherited ones such as 'constructor' do not count). */
  private raw(key: string): unknown {
    return Object.hasOwn(this.record, key) ? this.record[key] : undefined;
  }

  count(key: string, max = Number.MAX_SAFE_INTEGER): number {
    const value = this.present(key);
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > max) {
      this.bad(key, max === Number.MAX_SAFE_INTEGER ? 'an integer ≥ 0' : `an integer from 0 to ${max}`, value);
    }
    return value;
  }

  finite(key: string): number {
    const value = this.present(key);
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) this.bad(key, 'a finite number ≥ 0', value);
    return value;
  }

  /** Any float64, NaN and ±Infinity included: for training values whose health is the receiver's call. */
  anyNumber(key: string): number {
    const value = this.present(key);
    if (typeof value !== 'number') this.bad(key, 'a number', value);
    return value;
  }

  boolean(key: string): boolean {
    const value = this.present(key);
    if (typeof value !== 'boolean') this.bad(key, 'a boolean', value);
    return value;
  }

  optionalBoolean(key: string): boolean | undefined {
    return this.isAbsent(key) ? undefined : this.boolean(key);
  }

  /** A non-empty string of at most maxNameLength: ids, tensor names, backend names. */
  name(key: string): string {
    return this.string(key, 1, this.limits.maxNameLength);
  }

  /** A string of at most maxTextLength, possibly empty: messages, reasons, tokens. */
  text(key: string): string {
    return this.string(key, 0, this.limits.maxTextLength);
  }

  optionalUint32(key: string): number | undefined {
    return this.isAbsent(key) ? undefined : this.uint32(key);
  }

  optionalText(key: string): string | undefined {
    return this.isAbsent(key) ? undefined : this.text(key);
  }

  workerId(key: string): string {
    const value = this.name(key);
    if (!WORKER_ID.test(value)) this.bad(key, 'letters, digits and . _ : @ - only', value);
    return value;
  }

  uint32(key: string): number {
    return this.count(key, MAX_UINT32);
  }

  map(key: string): FieldReader {
    const value = this.present(key);
    if (!isPlainObject(value)) this.bad(key, 'a map', value, 'NOT_AN_OBJECT');
    return new FieldReader(value, this.owner, `${this.prefix}${key}.`, this.limits);
  }

  /** A map holding only JSON values (nil, booleans, finite numbers, strings, arrays, maps). */
  json(key: string): JsonObject {
    const value = this.present(key);
    if (!isPlainObject(value)) this.bad(key, 'a map', value, 'NOT_AN_OBJECT');
    const budget = { nodes: this.limits.maxJsonNodes };
    this.checkJson(value, `${this.prefix}${key}`, 0, budget);
    return value as JsonObject;
  }

  /** Names of tensors: non-empty, bounded, no duplicates. */
  names(key: string): string[] {
    const items = this.list(key, this.limits.maxTensors);
    const seen = new Set<string>();
    items.forEach((item, i) => {
      if (typeof item !== 'string' || item.length === 0 || item.length > this.limits.maxNameLength) {
        this.bad(`${key}[${i}]`, `a tensor name of 1 to ${this.limits.maxNameLength} characters`, item);
      }
      if (seen.has(item)) this.bad(`${key}[${i}]`, 'names without duplicates', item);
      seen.add(item);
    });
    return items as string[];
  }

  optionalNames(key: string): string[] | undefined {
    return this.isAbsent(key) ? undefined : this.names(key);
  }

  tensors(key: string): WireTensor[] {
    const items = this.list(key, this.limits.maxTensors);
    const seen = new Set<string>();
    return items.map((item, i) => {
      const tensor = this.tensor(item, `${key}[${i}]`);
      if (seen.has(tensor.name)) this.bad(`${key}[${i}].name`, 'tensor names without duplicates', tensor.name, 'BAD_TENSOR');
      seen.add(tensor.name);
      return tensor;
    });
  }

  /** Little-endian int32 bytes (a msgpack bin), each index ≥ 0. */
  indices(key: string): Int32Array {
    const value = this.present(key);
    const max = this.limits.maxIndices;
    if (!(value instanceof Uint8Array) || value.byteLength % BYTES_PER_INDEX !== 0) {
      this.bad(key, 'binary of little-endian int32 indices (a multiple of 4 bytes)', value);
    }
    if (value.byteLength > max * BYTES_PER_INDEX) this.bad(key, `at most ${max} indices`, value);
    const indices = indexListFromBytes(value);
    const negative = indices.findIndex((index) => index < 0);
    if (negative >= 0) this.bad(`${key}[${negative}]`, 'an index ≥ 0', indices[negative]);
    return indices;
  }

  /** A msgpack bin of exactly `length` bytes (nonces, proofs), as a plain Uint8Array view. */
  bytes(key: string, length: number): Uint8Array {
    const value = this.present(key);
    if (!(value instanceof Uint8Array) || value.byteLength !== length) this.bad(key, `binary of ${length} bytes`, value);
    return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  }

  optionalIndices(key: string): Int32Array | undefined {
    return this.isAbsent(key) ? undefined : this.indices(key);
  }

  /** Stops validation: `key` holds something other than `expected`. */
  bad(key: string, expected: string, value: unknown, code: ProtocolErrorCode = 'BAD_FIELD'): never {
    fail(code, `${this.owner}, field '${this.prefix}${key}': expected ${expected}, got ${describeValue(value)}`);
  }

  /** Absent optional fields may be missing or nil (what most msgpack libraries write for "none"). */
  private isAbsent(key: string): boolean {
    const value = this.raw(key);
    return value === undefined || value === null;
  }

  private present(key: string): unknown {
    const value = this.raw(key);
    if (value === undefined) fail('MISSING_FIELD', `${this.owner} has no field '${this.prefix}${key}'`);
    return value;
  }

  private string(key: string, minLength: number, maxLength: number): string {
    const value = this.present(key);
    if (typeof value !== 'string' || value.length < minLength || value.length > maxLength) {
      this.bad(key, `a string of ${minLength} to ${maxLength} characters`, value);
    }
    return value;
  }

  private list(key: string, maxLength: number): unknown[] {
    const value = this.present(key);
    if (!Array.isArray(value) || value.length > maxLength) this.bad(key, `an array of at most ${maxLength}`, value);
    return value;
  }

  private tensor(value: unknown, path: string): WireTensor {
    if (!isPlainObject(value)) this.bad(path, 'a tensor map {name, shape, dtype, data}', value, 'BAD_TENSOR');
    const name = own(value, 'name');
    const shape = own(value, 'shape');
    const dtype = own(value, 'dtype');
    const data = own(value, 'data');
    const { maxNameLength, maxRank } = this.limits;
    if (typeof name !== 'string' || name.length === 0 || name.length > maxNameLength) {
      this.bad(`${path}.name`, `a tensor name of 1 to ${maxNameLength} characters`, name, 'BAD_TENSOR');
    }
    if (!Array.isArray(shape) || shape.length > maxRank) {
      this.bad(`${path}.shape`, `an array of at most ${maxRank} dimensions`, shape, 'BAD_TENSOR');
    }
    shape.forEach((dim: unknown, i: number) => {
      if (typeof dim !== 'number' || !Number.isSafeInteger(dim) || dim < 0) {
        this.bad(`${path}.shape[${i}]`, 'an integer ≥ 0', dim, 'BAD_TENSOR');
      }
    });
    if (dtype !== WIRE_DTYPE) this.bad(`${path}.dtype`, `'${WIRE_DTYPE}'`, dtype, 'BAD_TENSOR');
    if (!(data instanceof Uint8Array)) this.bad(`${path}.data`, 'binary', data, 'BAD_TENSOR');
    const dims = shape as number[];
    const bytes = BYTES_PER_ELEMENT * elementCount(dims);
    if (data.byteLength !== bytes) {
      this.bad(`${path}.data`, `${bytes} bytes for tensor '${name}' of shape ${formatShape(dims)}`, data, 'BAD_TENSOR');
    }
    // A plain Uint8Array view: Buffer's slice() shares memory where Uint8Array's copies.
    return { name, shape: [...dims], dtype: WIRE_DTYPE, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  }

  private checkJson(value: unknown, path: string, depth: number, budget: { nodes: number }): asserts value is JsonValue {
    if (--budget.nodes < 0) fail('BAD_FIELD', `${this.owner}, field '${path}': more than ${this.limits.maxJsonNodes} JSON values`);
    if (value === null || typeof value === 'boolean') return;
    if (typeof value === 'number' && Number.isFinite(value)) return;
    if (typeof value === 'string' && value.length <= this.limits.maxTextLength) return;
    const nested = Array.isArray(value) || isPlainObject(value);
    if (!nested) {
      const expected = `a JSON value (nil, boolean, finite number, string of at most ${this.limits.maxTextLength} characters, array, map)`;
      fail('BAD_FIELD', `${this.owner}, field '${path}': expected ${expected}, got ${describeValue(value)}`);
    }
    if (depth >= this.limits.maxJsonDepth) {
      fail('BAD_FIELD', `${this.owner}, field '${path}': JSON nested deeper than ${this.limits.maxJsonDepth} levels`);
    }
    if (Array.isArray(value)) value.forEach((item, i) => this.checkJson(item, `${path}[${i}]`, depth + 1, budget));
    else for (const [k, item] of Object.entries(value as object)) this.checkJson(item, `${path}.${k}`, depth + 1, budget);
  }
}

function own(record: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

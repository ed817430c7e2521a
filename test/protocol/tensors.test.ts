import { describe, expect, it } from 'vitest';
import {
  checkTensors,
  decodeTensorValues,
  encodeTensor,
  findNonFinite,
  type TensorSpec,
  type WireTensor,
} from '../../src/protocol/index.js';

const specs: TensorSpec[] = [
  { name: 'conv/kernel', shape: [3, 3, 1, 2] },
  { name: 'conv/bias', shape: [2] },
];
const zeros = (spec: TensorSpec) => encodeTensor(spec.name, spec.shape, new Float32Array(spec.shape.reduce((a, b) => a * b, 1)));

/** A copy of `values`' bytes starting at an odd byte offset, as a bin field inside a frame would. */
function unalignedBytes(values: Float32Array): Uint8Array {
  const backing = new Uint8Array(values.byteLength + 1);
  backing.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), 1);
  return backing.subarray(1);
}

describe('encodeTensor', () => {
  it('views the values without copying', () => {
    const values = new Float32Array([1, 2, 3, 4, 5, 6]);
    const t = encodeTensor('w', [2, 3], values);
    expect(t).toMatchObject({ name: 'w', shape: [2, 3], dtype: 'float32' });
    expect(t.data.buffer).toBe(values.buffer);
    expect(t.data.byteLength).toBe(24);
  });

  it('views only the part of a larger buffer that the values cover', () => {
    const whole = new Float32Array([9, 1, 2, 9]);
    const t = encodeTensor('w', [2], whole.subarray(1, 3));
    expect([...decodeTensorValues(t)]).toEqual([1, 2]);
  });

  it('writes little-endian float32 bytes', () => {
    expect([...encodeTensor('one', [1], Float32Array.of(1)).data]).toEqual([0x00, 0x00, 0x80, 0x3f]);
  });

  it('throws RangeError when the values do not fill the shape', () => {
    expect(() => encodeTensor('w', [2, 3], new Float32Array(5))).toThrow(/shape \[2, 3\] holds 6 values, got 5/);
  });
});

describe('decodeTensorValues', () => {
  it('returns a view when the data is 4-byte aligned', () => {
    const values = Float32Array.of(1.5, -2);
    const decoded = decodeTensorValues(encodeTensor('w', [2], values));
    expect(decoded.buffer).toBe(values.buffer);
    expect([...decoded]).toEqual([1.5, -2]);
  });

  it('copies when the data starts at an unaligned byte offset', () => {
    const values = Float32Array.of(0.25, 3, -7.5);
    const t: WireTensor = { name: 'w', shape: [3], dtype: 'float32', data: unalignedBytes(values) };
    expect(t.data.byteOffset % 4).not.toBe(0);
    expect([...decodeTensorValues(t)]).toEqual([0.25, 3, -7.5]);
  });
});

describe('checkTensors', () => {
  it('accepts exactly the expected tensors, given as a list or a map', () => {
    const tensors = specs.map(zeros);
    expect(checkTensors(tensors, specs)).toBeNull();
    expect(checkTensors(tensors, new Map(specs.map((s) => [s.name, s.shape])))).toBeNull();
  });

  it('reports SHAPE_MISMATCH with both shapes', () => {
    const tensors = [zeros({ name: 'conv/kernel', shape: [3, 3, 2, 1] }), zeros(specs[1])];
    expect(checkTensors(tensors, specs)).toMatchObject({
      code: 'SHAPE_MISMATCH',
      message: "tensor 'conv/kernel': expected shape [3, 3, 1, 2], got [3, 3, 2, 1]",
    });
  });

  it('reports UNKNOWN_TENSOR for a name not in the specs', () => {
    const error = checkTensors([...specs.map(zeros), zeros({ name: 'extra', shape: [1] })], specs);
    expect(error).toMatchObject({ code: 'UNKNOWN_TENSOR', message: expect.stringContaining("'extra'") });
  });

  it('reports BAD_TENSOR for a duplicate name', () => {
    expect(checkTensors([zeros(specs[1]), zeros(specs[1])], specs)?.code).toBe('BAD_TENSOR');
  });

  it('reports BAD_TENSOR for a dtype other than float32', () => {
    const t = { ...zeros(specs[1]), dtype: 'int32' } as unknown as WireTensor;
    expect(checkTensors([zeros(specs[0]), t], specs)?.code).toBe('BAD_TENSOR');
  });

  it('reports BAD_TENSOR when the data length does not match the shape', () => {
    const t = { ...zeros(specs[1]), data: new Uint8Array(4) };
    expect(checkTensors([zeros(specs[0]), t], specs)).toMatchObject({
      code: 'BAD_TENSOR',
      message: "tensor 'conv/bias': shape [2] needs 8 bytes of float32 data, got 4",
    });
  });

  it('reports MISSING_TENSOR for an expected tensor that did not come', () => {
    expect(checkTensors([zeros(specs[0])], specs)).toMatchObject({
      code: 'MISSING_TENSOR',
      message: expect.stringContaining("'conv/bias'"),
    });
  });

  it('accepts a subset when allowSubset is set (or requireAll is false)', () => {
    expect(checkTensors([zeros(specs[0])], specs, { allowSubset: true })).toBeNull();
    expect(checkTensors([zeros(specs[0])], specs, { requireAll: false })).toBeNull();
    expect(checkTensors([], specs, { allowSubset: true })).toBeNull();
  });

  it('reports NON_FINITE for a NaN when requireFinite is set, and ignores it otherwise', () => {
    const tensors = [zeros(specs[0]), encodeTensor('conv/bias', [2], Float32Array.of(0, Number.NaN))];
    expect(checkTensors(tensors, specs)).toBeNull();
    expect(checkTensors(tensors, specs, { requireFinite: true })).toMatchObject({
      code: 'NON_FINITE',
      message: "tensor 'conv/bias' holds NaN or Infinity",
    });
  });

  it('still refuses unknown names in a subset', () => {
    expect(checkTensors([zeros({ name: 'x', shape: [1] })], specs, { allowSubset: true })?.code).toBe('UNKNOWN_TENSOR');
  });
});

describe('findNonFinite', () => {
  const finite = encodeTensor('a', [3], Float32Array.of(0, -1e30, 3.4e38));

  it('returns null when every value is finite', () => {
    expect(findNonFinite([finite, encodeTensor('empty', [0], new Float32Array(0))])).toBeNull();
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])('names the first tensor holding %s', (bad) => {
    const values = new Float32Array(100);
    values[99] = bad;
    expect(findNonFinite([finite, encodeTensor('b', [10, 10], values), encodeTensor('c', [1], Float32Array.of(bad))])).toBe('b');
  });

  it('reads unaligned data', () => {
    const t: WireTensor = { name: 'u', shape: [2], dtype: 'float32', data: unalignedBytes(Float32Array.of(1, Number.NaN)) };
    expect(findNonFinite([t])).toBe('u');
  });
});

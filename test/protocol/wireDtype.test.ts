// Reduced-precision tensors on the wire: float16 and bfloat16 encode, survive the codec, are
// checked against the run's wire dtype, and a malformed frame claiming one is refused.
import { pack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import {
  checkTensors,
  decodeMessage,
  decodeTensorValues,
  encodeMessage,
  encodeTensor,
  findNonFinite,
  TensorContract,
  tensorsFromMap,
  variableDtypes,
  type GradientsMessage,
  type WelcomeMessage,
  type WireDtype,
} from '../../src/protocol/index.js';
import { sampleMessages as messages } from './fixtures.js';

const REDUCED: WireDtype[] = ['float16', 'bfloat16'];
const values = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 10 ** ((i % 9) - 6));

/** Relative error a 16-bit format allows for a normal value: half an ulp of its mantissa. */
const HALF_ULP: Record<WireDtype, number> = { float32: 0, float16: 2 ** -11, bfloat16: 2 ** -8 };

describe('encodeTensor with a reduced-precision dtype', () => {
  it.each(REDUCED)('%s: two bytes per value, decoded within half an ulp of each float32 value', (dtype) => {
    const t = encodeTensor('w', [10, 100], values, dtype);
    expect(t.dtype).toBe(dtype);
    expect(t.data.byteLength).toBe(2 * values.length);
    const back = decodeTensorValues(t);
    for (let i = 0; i < values.length; i++) {
      // float16 normals start at 2^-14; below, the absolute error is half the smallest subnormal.
      const bound = dtype === 'float16' && Math.abs(values[i]) < 2 ** -14 ? 2 ** -25 : Math.abs(values[i]) * HALF_ULP[dtype];
      expect(Math.abs(back[i] - values[i]), `value ${i}: ${values[i]} → ${back[i]}`).toBeLessThanOrEqual(bound);
    }
  });

  it.each(REDUCED)('%s: decodes the same from unaligned data (a bin field starts at any byte)', (dtype) => {
    const t = encodeTensor('w', [3], Float32Array.of(0.5, -2, 1024), dtype);
    const unaligned = new Uint8Array(t.data.byteLength + 1).subarray(1);
    unaligned.set(t.data);
    expect([...decodeTensorValues({ ...t, data: unaligned })]).toEqual([0.5, -2, 1024]);
  });

  it('float32 stays the default and a view of the values', () => {
    const t = encodeTensor('w', [2], Float32Array.of(1, 2));
    expect(t.dtype).toBe('float32');
    expect(t.data.byteLength).toBe(8);
  });
});

describe('frames of reduced-precision tensors', () => {
  const gradients = (dtype: WireDtype): GradientsMessage => {
    const g = messages().find((m): m is GradientsMessage => m.type === 'gradients')!;
    return { ...g, gradients: g.gradients.map((t) => encodeTensor(t.name, t.shape, decodeTensorValues(t), dtype)) };
  };

  it.each(REDUCED)('%s: a gradients frame round-trips through the codec bit for bit, at about half the float32 size', (dtype) => {
    const full = encodeMessage(gradients('float32'));
    const reduced = encodeMessage(gradients(dtype));
    const decoded = decodeMessage(reduced);
    if (!decoded.ok) throw decoded.error;
    const sent = gradients(dtype).gradients;
    const got = (decoded.message as GradientsMessage).gradients;
    got.forEach((t, i) => {
      expect(t.dtype).toBe(dtype);
      expect(Buffer.from(t.data).equals(Buffer.from(sent[i].data)), t.name).toBe(true);
    });
    const dataBytes = sent.reduce((s, t) => s + t.data.byteLength, 0);
    expect(full.byteLength - reduced.byteLength).toBeGreaterThanOrEqual(dataBytes - 16);
  });

  it('refuses a tensor claiming float16 whose data has the float32 length, naming field, dtype and sizes', () => {
    const g = gradients('float32');
    const wire = { ...g, gradients: g.gradients.map((t, i) => (i === 0 ? { ...t, dtype: 'float16' } : t)) };
    const result = decodeMessage(pack(wire));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const first = g.gradients[0];
    const count = first.shape.reduce((a, b) => a * b, 1);
    expect(result.error.code).toBe('BAD_TENSOR');
    expect(result.error.message).toBe(
      `'gradients' message, field 'gradients[0].data': expected ${2 * count} bytes for float16 tensor '${first.name}' of shape [${first.shape.join(', ')}], got binary of ${4 * count} bytes`,
    );
  });

  it('refuses an odd number of bytes for a bfloat16 tensor', () => {
    const wire = { ...gradients('bfloat16') };
    wire.gradients = [{ ...wire.gradients[0], data: wire.gradients[0].data.subarray(1) }, ...wire.gradients.slice(1)];
    const result = decodeMessage(pack(wire));
    expect(result.ok ? 'accepted' : result.error.code).toBe('BAD_TENSOR');
  });

  it('refuses a dtype the protocol does not know, listing the ones it does', () => {
    const g = gradients('float32');
    const result = decodeMessage(pack({ ...g, gradients: [{ ...g.gradients[0], dtype: 'float8' }] }));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).toContain(`expected one of 'float32', 'float16', 'bfloat16', got string "float8"`);
  });

  it("refuses a welcome whose weights are neither in the welcome's wireDtype nor float32", () => {
    const welcome = messages().find((m): m is WelcomeMessage => m.type === 'welcome')!;
    const weights = welcome.weights.map((t, i) => (i === 0 ? encodeTensor(t.name, t.shape, decodeTensorValues(t), 'bfloat16') : t));
    const result = decodeMessage(encodeMessage({ ...welcome, wireDtype: 'float16', weights }));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).toMatch(/field 'weights\[0\]\.dtype': expected 'float16' \(the welcome's wireDtype\) or 'float32', got string "bfloat16"/);
  });

  it("a welcome carries its wireDtype to the worker; one without it means float32", () => {
    const welcome = messages().find((m): m is WelcomeMessage => m.type === 'welcome')!;
    const half = { ...welcome, wireDtype: 'bfloat16' as const, weights: welcome.weights.map((t) => encodeTensor(t.name, t.shape, decodeTensorValues(t), 'bfloat16')) };
    const decoded = decodeMessage(encodeMessage(half));
    expect(decoded.ok && decoded.message.type === 'welcome' && decoded.message.wireDtype).toBe('bfloat16');
    const plain = decodeMessage(encodeMessage(welcome));
    expect(plain.ok && plain.message.type === 'welcome' && plain.message.wireDtype).toBeUndefined();
  });
});

describe("checks against the run's wire dtype", () => {
  const shapes = new Map<string, readonly number[]>([['k', [4]], ['moving_mean', [2]]]);
  const weights = new Map([['k', Float32Array.of(1, 2, 3, 4)], ['moving_mean', Float32Array.of(0, 1)]]);

  it('refuses float32 tensors in a float16 run, and float16 ones in a float32 run', () => {
    const f32 = tensorsFromMap(weights, shapes);
    const f16 = tensorsFromMap(weights, shapes, undefined, 'float16');
    expect(checkTensors(f32, shapes, { dtype: 'float16' })?.message).toBe("tensor 'k': expected dtype 'float16' (this run's for that variable), got 'float32'");
    expect(checkTensors(f16, shapes)?.message).toBe("tensor 'k': expected dtype 'float32' (this run's for that variable), got 'float16'");
    expect(checkTensors(f16, shapes, { dtype: 'float16' })).toBeNull();
  });

  it('the contract of a float16 run wants float16 gradients and weights, and float32 moving statistics', () => {
    const carried = { trainable: ['k'], statistics: ['moving_mean'] };
    const contract = new TensorContract(shapes, carried, 'float16');
    const dtypeOf = variableDtypes('float16', carried.statistics);
    expect(dtypeOf('k')).toBe('float16');
    expect(dtypeOf('moving_mean')).toBe('float32');
    expect(contract.checkWeights(tensorsFromMap(weights, shapes, undefined, dtypeOf), true)).toBeNull();
    expect(contract.checkWeights(tensorsFromMap(weights, shapes, undefined, 'float16'), true)?.message).toBe(
      "tensor 'moving_mean': expected dtype 'float32' (this run's for that variable), got 'float16'",
    );
    expect(contract.checkGradients(tensorsFromMap(weights, shapes, ['k'], 'float16'), tensorsFromMap(weights, shapes, ['moving_mean']))).toBeNull();
    expect(contract.checkGradients(tensorsFromMap(weights, shapes, ['k']), tensorsFromMap(weights, shapes, ['moving_mean']))?.code).toBe('BAD_TENSOR');
  });

  it.each(REDUCED)('%s: NaN and Infinity are found without decoding; a saturated overflow is finite', (dtype) => {
    expect(findNonFinite([encodeTensor('a', [2], Float32Array.of(1e9, -1e9), dtype)])).toBeNull();
    expect(findNonFinite([encodeTensor('a', [1], Float32Array.of(1)), encodeTensor('b', [2], Float32Array.of(0, NaN), dtype)])).toBe('b');
    expect(findNonFinite([encodeTensor('c', [2], Float32Array.of(-Infinity, 0), dtype)])).toBe('c');
  });
});

import { pack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { decodeMessage, DEFAULT_LIMITS, NONCE_BYTES, PROTOCOL_VERSION, ProtocolError, type DecodeLimits } from '../../src/protocol/index.js';
import { CodedError, describeError } from '../../src/errors/codedError.js';
import { DEFAULT_TRAIN_CONFIG } from '../../src/training/setup/config.js';

// Wire-level maps are written here with msgpackr directly, so the tests can send what our encoder never would.
type Wire = Record<string, unknown>;

function decodeWire(value: unknown, limits?: Partial<DecodeLimits>) {
  return decodeMessage(pack(value), limits);
}

function errorOf(value: unknown, limits?: Partial<DecodeLimits>) {
  const result = decodeWire(value, limits);
  if (result.ok) throw new Error(`expected a decode error, got a valid '${result.message.type}' message`);
  return result.error;
}

const tensor = (name: string, shape: number[], bytes = 4 * shape.reduce((a, b) => a * b, 1)): Wire => ({
  name,
  shape,
  dtype: 'float32',
  data: new Uint8Array(bytes),
});
const int32Bytes = (values: number[]) => new Uint8Array(Int32Array.from(values).buffer);

const hello = (): Wire => ({ type: 'hello', workerId: 'w1', protocolVersion: PROTOCOL_VERSION, backend: 'cpu', device: 'cpu', pid: 1, nonce: new Uint8Array(NONCE_BYTES) });
const step = (): Wire => ({ type: 'step', step: 3, epoch: 0, weightsVersion: 3, indices: int32Bytes([4, 5, 6]), augmentSeed: 9 });
const gradients = (): Wire => ({
  type: 'gradients',
  step: 3,
  weightsVersion: 3,
  workerId: 'w1',
  exampleCount: 3,
  loss: 2.3,
  correct: 1,
  gradients: [tensor('dense/kernel', [4, 10]), tensor('dense/bias', [10])],
  bnStats: [],
  timings: { computeMs: 10, encodeMs: 1 },
});
const welcome = (): Wire => ({
  type: 'welcome',
  runId: 'r1',
  config: DEFAULT_TRAIN_CONFIG,
  modelSpec: DEFAULT_TRAIN_CONFIG.model,
  weightsVersion: 0,
  weights: [tensor('dense/kernel', [4, 10]), tensor('bn/moving_mean', [4])],
  trainable: ['dense/kernel'],
  shardInfo: { workerIndex: 0, workers: 2 },
});

describe('message envelope', () => {
  it('reports NOT_AN_OBJECT for a value that is not a map', () => {
    expect(errorOf([1, 2]).code).toBe('NOT_AN_OBJECT');
    expect(errorOf(42).code).toBe('NOT_AN_OBJECT');
  });

  it('reports MISSING_FIELD for a map without type', () => {
    expect(errorOf({ step: 1 })).toMatchObject({ code: 'MISSING_FIELD', message: expect.stringContaining("'type'") });
  });

  it('reports UNKNOWN_TYPE for a type it does not know, listing the known ones', () => {
    const error = errorOf({ type: 'gradient' });
    expect(error.code).toBe('UNKNOWN_TYPE');
    expect(error.message).toContain('gradients');
    expect(error.message).toContain('"gradient"');
  });

  it('reports BAD_FIELD for a type that is not a string', () => {
    expect(errorOf({ type: 7 }).code).toBe('BAD_FIELD');
  });

  it('drops fields it does not know (a newer peer may add optional ones)', () => {
    const result = decodeWire({ ...hello(), gpuMemoryMb: 80_000 });
    expect(result.ok && Object.keys(result.message)).not.toContain('gpuMemoryMb');
  });
});

describe('hello', () => {
  it('reports VERSION_MISMATCH for another protocol version, naming both versions', () => {
    const error = errorOf({ ...hello(), protocolVersion: PROTOCOL_VERSION + 1 });
    expect(error.code).toBe('VERSION_MISMATCH');
    expect(error.message).toContain(`version ${PROTOCOL_VERSION + 1}`);
    expect(error.message).toContain(`version ${PROTOCOL_VERSION}`);
  });

  it('checks the version before the other fields', () => {
    expect(errorOf({ type: 'hello', protocolVersion: 99 }).code).toBe('VERSION_MISMATCH');
  });

  it('reports BAD_FIELD for a protocol version that is not an integer', () => {
    expect(errorOf({ ...hello(), protocolVersion: '1' }).code).toBe('BAD_FIELD');
  });

  it('reports MISSING_FIELD naming the field', () => {
    const { workerId: _, ...rest } = hello();
    expect(errorOf(rest)).toMatchObject({ code: 'MISSING_FIELD', message: "'hello' message has no field 'workerId'" });
  });

  it('refuses a worker id with spaces', () => {
    expect(errorOf({ ...hello(), workerId: 'my worker' })).toMatchObject({
      code: 'BAD_FIELD',
      message: expect.stringContaining("field 'workerId'"),
    });
  });

  it('reads nil optional fields as absent', () => {
    const result = decodeWire({ ...hello(), resume: null });
    expect(result).toMatchObject({ ok: true, message: { type: 'hello', workerId: 'w1' } });
    expect(result.ok && 'resume' in result.message).toBe(false);
  });

  it('refuses a nonce that is not NONCE_BYTES bytes of binary', () => {
    expect(errorOf({ ...hello(), nonce: new Uint8Array(NONCE_BYTES - 1) })).toMatchObject({ code: 'BAD_FIELD', message: expect.stringMatching(/'hello' message, field 'nonce': expected binary of 32 bytes/) });
    expect(errorOf({ ...hello(), nonce: 'x'.repeat(NONCE_BYTES) }).code).toBe('BAD_FIELD');
  });

  it('carries no token: a token field is dropped, never read', () => {
    const result = decodeWire({ ...hello(), token: 'the-secret' });
    expect(result.ok && 'token' in result.message).toBe(false);
  });

  it('refuses a resume flag that is not a boolean', () => {
    expect(errorOf({ ...hello(), resume: 1 }).code).toBe('BAD_FIELD');
  });
});

describe('field types and ranges', () => {
  it('names the field, the expectation and what came for a wrong type', () => {
    expect(errorOf({ ...step(), step: '3' })).toMatchObject({
      code: 'BAD_FIELD',
      message: `'step' message, field 'step': expected an integer ≥ 0, got string "3"`,
    });
  });

  it.each([
    ['a negative step', { step: -1 }],
    ['a fractional epoch', { epoch: 0.5 }],
    ['a seed beyond 32 bits', { augmentSeed: 2 ** 32 }],
    ['a weights version beyond 2^53', { weightsVersion: 2n ** 60n }],
  ])('reports BAD_FIELD for %s', (_, patch) => {
    expect(errorOf({ ...step(), ...patch }).code).toBe('BAD_FIELD');
  });

  it('reports BAD_FIELD for a heartbeat time that is not finite', () => {
    expect(errorOf({ type: 'heartbeat', time: Number.NaN }).code).toBe('BAD_FIELD');
    expect(errorOf({ type: 'heartbeat', time: Number.POSITIVE_INFINITY }).code).toBe('BAD_FIELD');
  });

  it('reports BAD_FIELD for a timing that is negative, naming the nested field', () => {
    expect(errorOf({ ...gradients(), timings: { computeMs: -1, encodeMs: 0 } }).message).toContain("'timings.computeMs'");
  });

  it('reports NOT_AN_OBJECT for timings that are not a map', () => {
    expect(errorOf({ ...gradients(), timings: [1, 2] }).code).toBe('NOT_AN_OBJECT');
  });

  it('reports NOT_AN_OBJECT for timings that are a timestamp (an object, but not a map)', () => {
    expect(errorOf({ ...gradients(), timings: new Date(0) })).toMatchObject({ code: 'NOT_AN_OBJECT', message: expect.stringContaining("field 'timings': expected a map, got Date object") });
  });

  it('applies a limits object changed between frames with its new values', () => {
    const limits: Partial<DecodeLimits> = { maxTextLength: 10 };
    expect(decodeWire({ type: 'bye', reason: 'x'.repeat(10) }, limits).ok).toBe(true);
    limits.maxTextLength = 5;
    expect(errorOf({ type: 'bye', reason: 'x'.repeat(10) }, limits).message).toContain('a string of 0 to 5 characters');
  });

  it('applies limits tightened by the receiver, naming the bound', () => {
    expect(errorOf({ ...gradients(), workerId: 'w'.repeat(9) }, { maxNameLength: 8 }).message).toContain("field 'workerId': expected 1 to 8 letters");
  });

  it('accepts a NaN loss: divergence is the receiver’s call, not a protocol violation', () => {
    expect(decodeWire({ ...gradients(), loss: Number.NaN }).ok).toBe(true);
  });

  it('refuses more correct examples than examples', () => {
    expect(errorOf({ ...gradients(), correct: 4 })).toMatchObject({ code: 'BAD_FIELD', message: expect.stringContaining('correct') });
  });

  it('refuses a string longer than maxTextLength', () => {
    const reason = 'x'.repeat(DEFAULT_LIMITS.maxTextLength + 1);
    expect(errorOf({ type: 'bye', reason }).code).toBe('BAD_FIELD');
    expect(decodeWire({ type: 'bye', reason }, { maxTextLength: reason.length }).ok).toBe(true);
  });

  it('refuses more tensors than maxTensors', () => {
    expect(errorOf(gradients(), { maxTensors: 1 })).toMatchObject({ code: 'BAD_FIELD', message: expect.stringContaining('at most 1') });
  });
});

describe('tensors in messages', () => {
  it('reports BAD_TENSOR when data is not 4 × prod(shape) bytes, naming the tensor', () => {
    const error = errorOf({ ...gradients(), gradients: [tensor('dense/bias', [10], 36)] });
    expect(error.code).toBe('BAD_TENSOR');
    expect(error.message).toContain("'gradients[0].data'");
    expect(error.message).toContain('40 bytes');
    expect(error.message).toContain('binary of 36 bytes');
  });

  it.each([
    ['a dtype other than float32', { dtype: 'float16' }],
    ['a negative dimension', { shape: [-1, 10] }],
    ['a fractional dimension', { shape: [2.5, 4] }],
    ['a shape that is not an array', { shape: 10 }],
    ['data that is not binary', { data: [0, 0, 0, 0] }],
    ['an empty name', { name: '' }],
  ])('reports BAD_TENSOR for %s', (_, patch) => {
    expect(errorOf({ ...gradients(), bnStats: [{ ...tensor('bn/moving_mean', [4]), ...patch }] }).code).toBe('BAD_TENSOR');
  });

  it('reports BAD_TENSOR for a rank above maxRank', () => {
    expect(errorOf({ ...gradients(), bnStats: [tensor('t', [1, 1, 1])] }, { maxRank: 2 }).code).toBe('BAD_TENSOR');
  });

  it('reports BAD_TENSOR for a tensor name given twice', () => {
    const twice = [tensor('dense/bias', [10]), tensor('dense/bias', [10])];
    expect(errorOf({ ...gradients(), gradients: twice })).toMatchObject({ code: 'BAD_TENSOR', message: expect.stringContaining('duplicates') });
  });

  it('accepts scalars and empty tensors', () => {
    expect(decodeWire({ ...gradients(), bnStats: [tensor('scalar', []), tensor('empty', [0, 5])] }).ok).toBe(true);
  });

  it('reports UNKNOWN_TENSOR when welcome names a trainable variable it does not send', () => {
    expect(errorOf({ ...welcome(), trainable: ['dense/kernel', 'dense/bias'] })).toMatchObject({
      code: 'UNKNOWN_TENSOR',
      message: expect.stringContaining("'dense/bias'"),
    });
  });
});

describe('welcome', () => {
  it('refuses a worker index outside the worker count', () => {
    expect(errorOf({ ...welcome(), shardInfo: { workerIndex: 2, workers: 2 } }).message).toContain("'shardInfo.workerIndex'");
    expect(errorOf({ ...welcome(), shardInfo: { workerIndex: 0, workers: 0 } }).message).toContain("'shardInfo.workers'");
  });

  it('refuses a config holding something JSON cannot', () => {
    expect(errorOf({ ...welcome(), config: { ...DEFAULT_TRAIN_CONFIG, blob: new Uint8Array(4) } })).toMatchObject({
      code: 'BAD_FIELD',
      message: expect.stringContaining("'config.blob'"),
    });
  });

  it('refuses a config nested deeper than maxJsonDepth', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 10; i++) deep = { deep };
    expect(errorOf({ ...welcome(), config: deep }, { maxJsonDepth: 5 }).code).toBe('BAD_FIELD');
  });

  it('refuses a model spec that is an array', () => {
    expect(errorOf({ ...welcome(), modelSpec: [] }).code).toBe('NOT_AN_OBJECT');
  });

  it('refuses a config that is not a run config, naming the field and its bound', () => {
    expect(errorOf({ ...welcome(), config: { ...DEFAULT_TRAIN_CONFIG, learningRate: 5 } })).toMatchObject({
      code: 'BAD_FIELD',
      message: "'welcome' message, field 'config.learningRate': expected a positive number at most 1, got number 5",
    });
  });

  it('refuses a config whose schedule is none of the known ones, listing them', () => {
    expect(errorOf({ ...welcome(), config: { ...DEFAULT_TRAIN_CONFIG, schedule: 'linear' } }).message).toContain("field 'config.schedule': expected one of constant, cosine");
  });

  it('reports MISSING_FIELD for a model spec without a field, naming it', () => {
    const { numClasses: _, ...spec } = DEFAULT_TRAIN_CONFIG.model;
    expect(errorOf({ ...welcome(), modelSpec: spec })).toMatchObject({ code: 'MISSING_FIELD', message: "'welcome' message has no field 'modelSpec.numClasses'" });
  });

  it('names the nested block of a model spec that is wrong', () => {
    const blocks = [{ filters: 8, dilation: 0 }];
    expect(errorOf({ ...welcome(), modelSpec: { ...DEFAULT_TRAIN_CONFIG.model, blocks } }).message).toContain("'modelSpec.blocks[0].dilation'");
  });
});

describe('step indices', () => {
  it('decodes indices from little-endian int32 bytes', () => {
    const result = decodeWire(step());
    expect(result.ok && result.message.type === 'step' && [...result.message.indices]).toEqual([4, 5, 6]);
  });

  it.each([
    ['a byte length that is not a multiple of 4', new Uint8Array(7)],
    ['a msgpack array of numbers instead of bytes', [4, 5, 6]],
    ['a negative index', int32Bytes([1, -2])],
  ])('reports BAD_FIELD for %s', (_, indices) => {
    expect(errorOf({ ...step(), indices }).code).toBe('BAD_FIELD');
  });

  it('refuses more indices than maxIndices, in nextIndices too', () => {
    expect(errorOf({ ...step(), nextIndices: int32Bytes([1, 2, 3, 4]) }, { maxIndices: 3 }).message).toContain("'nextIndices'");
  });
});

describe('protocol errors', () => {
  it('are CodedErrors with the protocol code and the sentence', () => {
    const error = errorOf({ type: 'heartbeat' });
    expect(error).toBeInstanceOf(CodedError);
    expect(error).toBeInstanceOf(ProtocolError);
    expect(describeError(error)).toBe("'heartbeat' message has no field 'time' [MISSING_FIELD]");
  });
});

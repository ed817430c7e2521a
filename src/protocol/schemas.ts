// The shape of every message on the wire, as TypeBox schemas: the one place a message's fields,
// types and bounds are written. messages.ts derives the TypeScript types from them; validate.ts
// checks every received map with them (compiled once per limit set) and then runs what no schema
// expresses (a tensor's data length against its shape, duplicate names, `correct` ≤
// `exampleCount`, the welcome's name lists against its weights, the JSON size of config and
// model spec). Each field carries `expected`, the words an error uses for it, and `code` where a
// failure is not BAD_FIELD. The welcome's config is the run config of schemas/runConfig.ts.
import { Kind, Type, TypeRegistry, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { ModelSpecSchema, TrainConfigSchema } from '../schemas/runConfig.js';
import { DEFAULT_LIMITS, WIRE_DTYPES, type DecodeLimits } from './constants.js';
import type { ProtocolErrorCode } from './errors.js';
import { NONCE_BYTES, PROOF_BYTES } from './handshake.js';
import { BYTES_PER_INDEX } from './indexLists.js';

const MAX_UINT32 = 0xffff_ffff;
/** TypeBox refuses NaN and ±Infinity in Type.Number; a loss may be either (the receiver judges it). */
const ANY_NUMBER_KIND = 'ProtocolAnyNumber';
if (!TypeRegistry.Has(ANY_NUMBER_KIND)) TypeRegistry.Set(ANY_NUMBER_KIND, (_schema, value) => typeof value === 'number');

/** Annotations read by validate.ts when a field fails. */
interface Said {
  expected: string;
  code?: ProtocolErrorCode;
}

const count = (max = Number.MAX_SAFE_INTEGER, code?: ProtocolErrorCode) =>
  Type.Integer({ minimum: 0, maximum: max, expected: max === Number.MAX_SAFE_INTEGER ? 'an integer ≥ 0' : `an integer from 0 to ${max}`, code });
const finite = () => Type.Number({ minimum: 0, expected: 'a finite number ≥ 0' });
const anyNumber = () => Type.Unsafe<number>({ [Kind]: ANY_NUMBER_KIND, expected: 'a number' });
const boolean = () => Type.Boolean({ expected: 'a boolean' });
const bytes = (length: number) => Type.Uint8Array({ minByteLength: length, maxByteLength: length, expected: `binary of ${length} bytes` });
/** Absent optional fields may be missing or nil (what most msgpack libraries write for "none"). */
const optional = <S extends TSchema>(schema: S) =>
  Type.Optional(Type.Union([schema, Type.Null()], { expected: (schema as unknown as Said).expected, code: (schema as unknown as Said).code }));

/** The schemas of all messages with the bounds of `limits` (DecodeLimits: names, texts, lists, ranks, indices). */
export function messageSchemas(limits: DecodeLimits) {
  const stringOf = (minLength: number, maxLength: number, code?: ProtocolErrorCode) =>
    Type.String({ minLength, maxLength, expected: `a string of ${minLength} to ${maxLength} characters`, code });
  const name = (code?: ProtocolErrorCode) => stringOf(1, limits.maxNameLength, code);
  const text = () => stringOf(0, limits.maxTextLength);
  const workerId = () =>
    Type.String({ minLength: 1, maxLength: limits.maxNameLength, pattern: '^[A-Za-z0-9._:@-]+$', expected: `1 to ${limits.maxNameLength} letters, digits and . _ : @ - only` });
  const list = <S extends TSchema>(items: S, maxItems: number) =>
    Type.Array(items, { maxItems, expected: `an array of at most ${maxItems}` });
  const indices = () =>
    Type.Uint8Array({ maxByteLength: BYTES_PER_INDEX * limits.maxIndices, expected: `binary of at most ${limits.maxIndices} little-endian int32 indices` });
  const map = <P extends Record<string, TSchema>>(properties: P) => Type.Object(properties, { expected: 'a map', code: 'NOT_AN_OBJECT' });

  const wireDtype = (code?: ProtocolErrorCode) =>
    Type.Union(WIRE_DTYPES.map((d) => Type.Literal(d)), { expected: `one of ${WIRE_DTYPES.map((d) => `'${d}'`).join(', ')}`, code });
  const tensor = Type.Object(
    {
      name: Type.String({ minLength: 1, maxLength: limits.maxNameLength, expected: `a tensor name of 1 to ${limits.maxNameLength} characters`, code: 'BAD_TENSOR' }),
      shape: Type.Array(count(Number.MAX_SAFE_INTEGER, 'BAD_TENSOR'), { maxItems: limits.maxRank, expected: `an array of at most ${limits.maxRank} dimensions`, code: 'BAD_TENSOR' }),
      dtype: wireDtype('BAD_TENSOR'),
      data: Type.Uint8Array({ expected: 'binary', code: 'BAD_TENSOR' }),
    },
    { expected: 'a tensor map {name, shape, dtype, data}', code: 'BAD_TENSOR' },
  );
  const tensors = () => list(tensor, limits.maxTensors);
  const names = () => list(Type.String({ minLength: 1, maxLength: limits.maxNameLength, expected: `a tensor name of 1 to ${limits.maxNameLength} characters` }), limits.maxTensors);
  /** Shape from the run config's schema; a non-map is NOT_AN_OBJECT as for every nested map. */
  const owned = <S extends TSchema>(schema: S): S => ({ ...schema, expected: 'a map', code: 'NOT_AN_OBJECT' });

  return {
    tensor,
    hello: Type.Object({
      type: Type.Literal('hello'),
      workerId: workerId(),
      protocolVersion: count(),
      nonce: bytes(NONCE_BYTES),
      /** tfjs backend name, e.g. 'tensorflow', 'wasm', 'cpu'. */
      backend: name(),
      /** Free-form device description, e.g. 'cpu x8' or a GPU name. */
      device: name(),
      pid: count(),
      /** True when reconnecting to a run this worker already took part in. */
      resume: optional(boolean()),
    }),
    challenge: Type.Object({ type: Type.Literal('challenge'), nonce: bytes(NONCE_BYTES), proof: bytes(PROOF_BYTES) }),
    auth: Type.Object({ type: Type.Literal('auth'), proof: bytes(PROOF_BYTES) }),
    welcome: Type.Object({
      type: Type.Literal('welcome'),
      runId: name(),
      config: owned(TrainConfigSchema),
      modelSpec: owned(ModelSpecSchema),
      weightsVersion: count(),
      weights: tensors(),
      trainable: names(),
      statistics: optional(names()),
      shardInfo: map({ workerIndex: count(), workers: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, expected: 'an integer ≥ 1' }) }),
      /** The element type of every tensor of the run after this welcome, and of its weights; absent: float32. */
      wireDtype: optional(wireDtype()),
    }),
    step: Type.Object({
      type: Type.Literal('step'),
      step: count(),
      epoch: count(),
      weightsVersion: count(),
      indices: indices(),
      nextIndices: optional(indices()),
      augmentSeed: count(MAX_UINT32),
      nextAugmentSeed: optional(count(MAX_UINT32)),
    }),
    gradients: Type.Object({
      type: Type.Literal('gradients'),
      step: count(),
      weightsVersion: count(),
      workerId: workerId(),
      exampleCount: count(),
      loss: anyNumber(),
      correct: count(),
      gradients: tensors(),
      bnStats: tensors(),
      timings: map({ computeMs: finite(), encodeMs: finite() }),
    }),
    weights: Type.Object({ type: Type.Literal('weights'), weightsVersion: count(), step: count(), tensors: tensors(), full: boolean() }),
    heartbeat: Type.Object({ type: Type.Literal('heartbeat'), time: finite() }),
    error: Type.Object({ type: Type.Literal('error'), code: name(), message: text() }),
    bye: Type.Object({ type: Type.Literal('bye'), reason: text() }),
  };
}

export type MessageSchemas = ReturnType<typeof messageSchemas>;
export type WireMessageType = Exclude<keyof MessageSchemas, 'tensor'>;
/** A message as it is on the wire (index lists as bytes, absent optional fields possibly nil). */
export type WireMessageOf<K extends WireMessageType> = Static<MessageSchemas[K]>;
export type WireTensor = Static<MessageSchemas['tensor']>;

export const MESSAGE_TYPES: readonly WireMessageType[] = ['hello', 'challenge', 'auth', 'welcome', 'step', 'gradients', 'weights', 'heartbeat', 'error', 'bye'];

export type CompiledSchemas = { readonly [K in WireMessageType]: TypeCheck<MessageSchemas[K]> };

/** A receiver uses one limit set for its whole life; a few are kept in case a process holds more. */
const MAX_CACHED_LIMIT_SETS = 8;
const cache = new Map<string, CompiledSchemas>();

/** Every message schema for `limits`, compiled to a checking function the first time that limit set is seen. */
export function compiledSchemas(limits: DecodeLimits = DEFAULT_LIMITS): CompiledSchemas {
  const key = JSON.stringify(limits);
  let compiled = cache.get(key);
  if (!compiled) {
    const schemas = messageSchemas(limits);
    compiled = Object.fromEntries(MESSAGE_TYPES.map((type) => [type, TypeCompiler.Compile(schemas[type])])) as unknown as CompiledSchemas;
    if (cache.size >= MAX_CACHED_LIMIT_SETS) cache.delete(cache.keys().next().value as string);
    cache.set(key, compiled);
  }
  return compiled;
}

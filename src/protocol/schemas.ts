// The shape of every message on the wire, as TypeBox schemas compiled once (TypeCompiler):
// field names, types, string and list bounds from DEFAULT_LIMITS. What no schema expresses stays
// in code (validate.ts, fields.ts): a tensor's data length against its shape, duplicate names,
// `correct` ≤ `exampleCount`, the welcome's name lists against its weights, limits a receiver
// tightens at run time (maxIndices, maxPayloadBytes), and finiteness of tensor values.
import { Type, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { DEFAULT_LIMITS, WIRE_DTYPE } from './constants.js';
import { NONCE_BYTES, PROOF_BYTES } from './handshake.js';
import type { MessageType } from './messages.js';

const L = DEFAULT_LIMITS;
const Count = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const Uint32 = Type.Integer({ minimum: 0, maximum: 0xffff_ffff });
const Ms = Type.Number({ minimum: 0 });
const Name = Type.String({ minLength: 1, maxLength: L.maxNameLength });
const Text = Type.String({ maxLength: L.maxTextLength });
const WorkerId = Type.String({ minLength: 1, maxLength: L.maxNameLength, pattern: '^[A-Za-z0-9._:@-]+$' });
const Bytes = (length: number) => Type.Uint8Array({ minByteLength: length, maxByteLength: length });
const Indices = Type.Uint8Array({ maxByteLength: 4 * L.maxIndices });
/** Any map: config and model spec are JSON checked for depth and size in code (their schemas belong to their owners). */
const JsonMap = Type.Record(Type.String(), Type.Unknown());

export const WireTensorSchema = Type.Object({
  name: Name,
  shape: Type.Array(Count, { maxItems: L.maxRank }),
  dtype: Type.Literal(WIRE_DTYPE),
  data: Type.Uint8Array(),
});
const Tensors = Type.Array(WireTensorSchema, { maxItems: L.maxTensors });
const Names = Type.Array(Name, { maxItems: L.maxTensors });

export const MessageSchemas = {
  hello: Type.Object({ type: Type.Literal('hello'), workerId: WorkerId, protocolVersion: Count, nonce: Bytes(NONCE_BYTES), backend: Name, device: Name, pid: Count, resume: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])) }),
  challenge: Type.Object({ type: Type.Literal('challenge'), nonce: Bytes(NONCE_BYTES), proof: Bytes(PROOF_BYTES) }),
  auth: Type.Object({ type: Type.Literal('auth'), proof: Bytes(PROOF_BYTES) }),
  welcome: Type.Object({
    type: Type.Literal('welcome'),
    runId: Name,
    config: JsonMap,
    modelSpec: JsonMap,
    weightsVersion: Count,
    weights: Tensors,
    trainable: Names,
    statistics: Type.Optional(Type.Union([Names, Type.Null()])),
    shardInfo: Type.Object({ workerIndex: Count, workers: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) }),
  }),
  step: Type.Object({
    type: Type.Literal('step'),
    step: Count,
    epoch: Count,
    weightsVersion: Count,
    indices: Indices,
    nextIndices: Type.Optional(Type.Union([Indices, Type.Null()])),
    augmentSeed: Uint32,
    nextAugmentSeed: Type.Optional(Type.Union([Uint32, Type.Null()])),
  }),
  gradients: Type.Object({
    type: Type.Literal('gradients'),
    step: Count,
    weightsVersion: Count,
    workerId: WorkerId,
    exampleCount: Count,
    loss: Type.Number(),
    correct: Count,
    gradients: Tensors,
    bnStats: Tensors,
    timings: Type.Object({ computeMs: Ms, encodeMs: Ms }),
  }),
  weights: Type.Object({ type: Type.Literal('weights'), weightsVersion: Count, step: Count, tensors: Tensors, full: Type.Boolean() }),
  heartbeat: Type.Object({ type: Type.Literal('heartbeat'), time: Ms }),
  error: Type.Object({ type: Type.Literal('error'), code: Name, message: Text }),
  bye: Type.Object({ type: Type.Literal('bye'), reason: Text }),
} satisfies Record<MessageType, TSchema>;

type Compiled = { [K in MessageType]: TypeCheck<(typeof MessageSchemas)[K]> };

/** Each message schema compiled to a checking function, once, at first use. */
let compiled: Compiled | undefined;
export function compiledSchemas(): Compiled {
  compiled ??= Object.fromEntries(Object.entries(MessageSchemas).map(([type, schema]) => [type, TypeCompiler.Compile(schema)])) as unknown as Compiled;
  return compiled;
}

// Turns a decoded msgpack value into a typed Message, or a ProtocolError naming the first field
// that is wrong: the compiled schema of its `type` (schemas.ts) checks the shape, then the checks
// no schema expresses run (fields.ts and below), and the message is built from its known fields.

import type { TSchema } from '@sinclair/typebox';
import type { TypeCheck } from '@sinclair/typebox/compiler';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import { dottedPath } from '../schemas/check.js';
import { DEFAULT_LIMITS, DEFAULT_WIRE_DTYPE, PROTOCOL_VERSION, type DecodeLimits } from './constants.js';
import { protocolError, ProtocolError, type ProtocolErrorCode } from './errors.js';
import { describeValue, fail, isPlainObject, MessageFields, plainBytes } from './fields.js';
import { resolveLimits } from './limits.js';
import type { Message, MessageOf, MessageType } from './messages.js';
import { compiledSchemas, MESSAGE_TYPES, type CompiledSchemas, type WireMessageOf } from './schemas.js';

export type DecodeResult = { ok: true; message: Message } | { ok: false; error: ProtocolError };

/** Checks run before the schema, on the unchecked map: what must be refused first, or before a deep walk. */
const preChecks: { [K in MessageType]?: (value: Record<string, unknown>, f: MessageFields) => void } = {
  // A peer of another version may not send the rest in a shape we know.
  hello: (value) => {
    const version = Object.hasOwn(value, 'protocolVersion') ? value.protocolVersion : undefined;
    if (typeof version === 'number' && Number.isSafeInteger(version) && version >= 0 && version !== PROTOCOL_VERSION) {
      fail('VERSION_MISMATCH', `'hello' message: peer speaks protocol version ${version}, this side speaks version ${PROTOCOL_VERSION}`);
    }
  },
  welcome: (value, f) => {
    for (const field of ['config', 'modelSpec']) {
      const map = Object.hasOwn(value, field) ? value[field] : undefined;
      if (isPlainObject(map)) f.json(field, map);
    }
  },
};

type Build<K extends MessageType> = (wire: WireMessageOf<K>, f: MessageFields) => MessageOf<K>;

/** Builds each message from its known fields only, after the checks no schema expresses; unknown extra fields are dropped (see Versioning). */
const builders: { [K in MessageType]: Build<K> } = {
  hello: (w) =>
    withOptional(
      { type: 'hello', workerId: w.workerId, protocolVersion: w.protocolVersion, backend: w.backend, device: w.device, pid: w.pid, nonce: plainBytes(w.nonce) },
      { resume: w.resume },
    ),

  challenge: (w) => ({ type: 'challenge', nonce: plainBytes(w.nonce), proof: plainBytes(w.proof) }),

  auth: (w) => ({ type: 'auth', proof: plainBytes(w.proof) }),

  welcome: (w, f) => {
    const weights = f.tensors('weights', w.weights);
    const trainable = f.names('trainable', w.trainable);
    const weightNames = new Set(weights.map((t) => t.name));
    const unknown = trainable.find((name) => !weightNames.has(name));
    if (unknown !== undefined) {
      fail('UNKNOWN_TENSOR', `'welcome' message, field 'trainable': '${unknown}' is not one of the ${weights.length} weights`);
    }
    const statistics = w.statistics === null || w.statistics === undefined ? undefined : f.names('statistics', w.statistics);
    const trainableNames = new Set(trainable);
    for (const name of statistics ?? []) {
      if (!weightNames.has(name)) fail('UNKNOWN_TENSOR', `'welcome' message, field 'statistics': '${name}' is not one of the ${weights.length} weights`);
      if (trainableNames.has(name)) f.bad('statistics', `names not in 'trainable'`, name);
    }
    const { workerIndex, workers } = w.shardInfo;
    if (workerIndex >= workers) f.bad('shardInfo.workerIndex', `an integer below workers (${workers})`, workerIndex);
    const wireDtype = w.wireDtype ?? DEFAULT_WIRE_DTYPE;
    // The moving statistics travel as float32 in every run (variableDtypes.ts); the receiver's TensorContract checks each name.
    const otherDtype = weights.findIndex((t) => t.dtype !== wireDtype && t.dtype !== DEFAULT_WIRE_DTYPE);
    if (otherDtype >= 0) f.bad(`weights[${otherDtype}].dtype`, `'${wireDtype}' (the welcome's wireDtype) or 'float32'`, weights[otherDtype].dtype, 'BAD_TENSOR');
    return withOptional(
      { type: 'welcome', runId: w.runId, config: w.config, modelSpec: w.modelSpec, weightsVersion: w.weightsVersion, weights, trainable, shardInfo: { workerIndex, workers } },
      { statistics, wireDtype: w.wireDtype },
    );
  },

  step: (w, f) =>
    withOptional(
      { type: 'step', step: w.step, epoch: w.epoch, weightsVersion: w.weightsVersion, indices: f.indices('indices', w.indices), augmentSeed: w.augmentSeed },
      {
        nextIndices: w.nextIndices === null || w.nextIndices === undefined ? undefined : f.indices('nextIndices', w.nextIndices),
        nextAugmentSeed: w.nextAugmentSeed,
      },
    ),

  gradients: (w, f) => {
    if (w.correct > w.exampleCount) f.bad('correct', `at most exampleCount (${w.exampleCount})`, w.correct);
    return {
      type: 'gradients',
      step: w.step,
      weightsVersion: w.weightsVersion,
      workerId: w.workerId,
      exampleCount: w.exampleCount,
      loss: w.loss,
      correct: w.correct,
      gradients: f.tensors('gradients', w.gradients),
      bnStats: f.tensors('bnStats', w.bnStats),
      timings: { computeMs: w.timings.computeMs, encodeMs: w.timings.encodeMs },
    };
  },

  weights: (w, f) => ({ type: 'weights', weightsVersion: w.weightsVersion, step: w.step, tensors: f.tensors('tensors', w.tensors), full: w.full }),

  heartbeat: (w) => ({ type: 'heartbeat', time: w.time }),

  error: (w) => ({ type: 'error', code: w.code, message: w.message }),

  bye: (w) => ({ type: 'bye', reason: w.reason }),
};

const KNOWN_TYPES = new Set<string>(MESSAGE_TYPES);

export function isMessageType(value: unknown): value is MessageType {
  return typeof value === 'string' && KNOWN_TYPES.has(value);
}

const NO_LIMITS: Partial<DecodeLimits> = Object.freeze({});
const LIMIT_KEYS = Object.keys(DEFAULT_LIMITS) as (keyof DecodeLimits)[];
interface LimitSet {
  /** The caller's values when this set was made: a caller may change its object between frames. */
  given: Partial<DecodeLimits>;
  resolved: DecodeLimits;
  schemas: CompiledSchemas;
}
/** A receiver passes the same limits object with every frame: resolved once per object (and again if it changed). */
const limitSets = new WeakMap<Partial<DecodeLimits>, LimitSet>();

function limitSet(limits: Partial<DecodeLimits>): LimitSet {
  const known = limitSets.get(limits);
  if (known && LIMIT_KEYS.every((key) => known.given[key] === limits[key])) return known;
  const resolved = resolveLimits(limits);
  const set = { given: { ...limits }, resolved, schemas: compiledSchemas(resolved) };
  limitSets.set(limits, set);
  return set;
}

/**
 * Checks a decoded value against the schema of its `type` and the rules no schema expresses.
 * Never throws; on success the message is a fresh object holding only the known fields (tensor
 * data still views the decoded bytes).
 */
export function validateMessage(value: unknown, limits: Partial<DecodeLimits> = NO_LIMITS): DecodeResult {
  if (!isPlainObject(value)) {
    return { ok: false, error: protocolError('NOT_AN_OBJECT', `a message must be a map, got ${describeValue(value)}`) };
  }
  const type = Object.hasOwn(value, 'type') ? value.type : undefined;
  if (type === undefined) return { ok: false, error: protocolError('MISSING_FIELD', `message has no field 'type'`) };
  if (!isMessageType(type)) {
    const known = MESSAGE_TYPES.join(', ');
    const code = typeof type === 'string' ? 'UNKNOWN_TYPE' : 'BAD_FIELD';
    return { ok: false, error: protocolError(code, `message field 'type': expected one of ${known}, got ${describeValue(type)}`) };
  }
  try {
    const { resolved, schemas } = limitSet(limits);
    const fields = new MessageFields(type, resolved);
    preChecks[type]?.(value, fields);
    const check = schemas[type] as TypeCheck<TSchema>;
    if (!check.Check(value)) reportSchemaFailure(fields, check, value);
    return { ok: true, message: (builders[type] as Build<MessageType>)(value as never, fields) };
  } catch (error) {
    if (error instanceof ProtocolError) return { ok: false, error };
    // Only a bug here (or a stack overflow) gets this far; still an answer, not a throw.
    return { ok: false, error: protocolError('BAD_FIELD', `'${type}' message could not be validated: ${String(error)}`) };
  }
}

/** What schemas.ts writes on a field for its errors. */
interface Said {
  expected?: string;
  code?: ProtocolErrorCode;
}

/** Stops validation with the schema's first failure, in the words of the failing field's schema. */
function reportSchemaFailure(fields: MessageFields, check: TypeCheck<TSchema>, value: Record<string, unknown>): never {
  let error: ValueError | undefined = check.Errors(value).First();
  // An optional field's union with nil: the reason is inside the non-nil variant, which names the nested field.
  while (error?.type === ValueErrorType.Union && error.value !== null && isNilUnion(error.schema) && error.errors[0]) {
    const inner: ValueError | undefined = error.errors[0].First();
    if (!inner) break;
    error = inner;
  }
  if (!error) fail('BAD_FIELD', `${fields.owner} does not match its schema`);
  const segments = error.path.split('/').slice(1);
  // An object that is not a plain map (a Date, a typed array) where a map belongs fails inside it; the map itself is what is wrong.
  for (let depth = 0; depth < segments.length; depth++) {
    const node = valueAt(value, segments.slice(0, depth));
    if (depth > 0 && !isPlainObject(node) && !Array.isArray(node)) {
      const at = segments.slice(0, depth);
      const said = schemaAt(check.Schema(), at) as Said;
      fields.bad(pathOf(at), said.expected ?? 'a map', node, said.code ?? 'NOT_AN_OBJECT');
    }
  }
  const said = error.schema as Said;
  const field = dottedPath(error.path);
  if (error.type === ValueErrorType.ObjectRequiredProperty) fields.missing(field, said.code === 'BAD_TENSOR' ? 'BAD_TENSOR' : 'MISSING_FIELD');
  // A nested map of a schema written elsewhere (the run config's) says nothing of itself: it is a map like any other.
  if (error.type === ValueErrorType.Object) fields.bad(field, said.expected ?? 'a map', error.value, said.code ?? 'NOT_AN_OBJECT');
  fields.bad(field, said.expected ?? describeSchema(error.schema), error.value, said.code ?? 'BAD_FIELD');
}

/** The `optional()` of schemas.ts: a field's schema or nil. */
function isNilUnion(schema: TSchema): boolean {
  return Array.isArray(schema.anyOf) && (schema.anyOf as TSchema[]).some((s) => s.type === 'null');
}

function pathOf(segments: readonly string[]): string {
  return dottedPath(segments.map((s) => `/${s}`).join(''));
}

function valueAt(value: unknown, segments: readonly string[]): unknown {
  let node = value;
  for (const segment of segments) node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[unescape(segment)] : undefined;
  return node;
}

/** The schema of the field at `segments` (objects by property, arrays by items, nil unions by their other variant). */
function schemaAt(root: TSchema, segments: readonly string[]): TSchema {
  let schema = root;
  for (const segment of segments) {
    while (Array.isArray(schema.anyOf)) schema = (schema.anyOf as TSchema[]).find((s) => s.type !== 'null') ?? schema.anyOf[0];
    if (schema.properties) schema = schema.properties[unescape(segment)];
    else if (Array.isArray(schema.items)) schema = schema.items[Number(segment)];
    else if (schema.items) schema = schema.items;
    if (!schema) return {} as TSchema;
  }
  return schema;
}

function unescape(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

function describeSchema(schema: TSchema): string {
  if (typeof schema.description === 'string') return schema.description;
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  return typeof schema.type === 'string' ? `a ${schema.type}` : 'a valid value';
}

/** `base` plus those optional fields that are present, so absent ones stay absent (neither `undefined` nor nil). */
function withOptional<T extends object, O extends object>(base: T, optional: O): T & { [K in keyof O]?: Exclude<O[K], null | undefined> } {
  const result = { ...base } as Record<string, unknown>;
  for (const [key, value] of Object.entries(optional)) if (value !== undefined && value !== null) result[key] = value;
  return result as T & { [K in keyof O]?: Exclude<O[K], null | undefined> };
}

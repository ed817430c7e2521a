// Runtime schema of every message type: turns a decoded msgpack value into a typed Message, or a
// ProtocolError naming the first field that is wrong. One schema per type, looked up by `type`.

import { PROTOCOL_VERSION, type DecodeLimits } from './constants.js';
import { protocolError, type ProtocolError } from './errors.js';
import { describeValue, fail, FieldReader, InvalidMessage, isPlainObject } from './fields.js';
import { NONCE_BYTES, PROOF_BYTES } from './handshake.js';
import { resolveLimits } from './limits.js';
import type { Message, MessageOf, MessageType } from './messages.js';

export type DecodeResult = { ok: true; message: Message } | { ok: false; error: ProtocolError };

type Schema<K extends MessageType> = (f: FieldReader) => MessageOf<K>;

/** Builds each message from its known fields only; unknown extra fields are dropped (see Versioning). */
const schemas: { [K in MessageType]: Schema<K> } = {
  hello: (f) => {
    // Checked first: a peer of another version may not send the rest in a shape we know.
    const protocolVersion = f.count('protocolVersion');
    if (protocolVersion !== PROTOCOL_VERSION) {
      fail(
        'VERSION_MISMATCH',
        `'hello' message: peer speaks protocol version ${protocolVersion}, this side speaks version ${PROTOCOL_VERSION}`,
      );
    }
    return withOptional(
      {
        type: 'hello',
        workerId: f.workerId('workerId'),
        protocolVersion,
        backend: f.name('backend'),
        device: f.name('device'),
        pid: f.count('pid'),
        nonce: f.bytes('nonce', NONCE_BYTES),
      },
      { resume: f.optionalBoolean('resume') },
    );
  },

  challenge: (f) => ({ type: 'challenge', nonce: f.bytes('nonce', NONCE_BYTES), proof: f.bytes('proof', PROOF_BYTES) }),

  auth: (f) => ({ type: 'auth', proof: f.bytes('proof', PROOF_BYTES) }),

  welcome: (f) => {
    const weights = f.tensors('weights');
    const trainable = f.names('trainable');
    const weightNames = new Set(weights.map((t) => t.name));
    const unknown = trainable.find((name) => !weightNames.has(name));
    if (unknown !== undefined) {
      fail('UNKNOWN_TENSOR', `'welcome' message, field 'trainable': '${unknown}' is not one of the ${weights.length} weights`);
    }
    const statistics = f.optionalNames('statistics');
    const trainableNames = new Set(trainable);
    for (const name of statistics ?? []) {
      if (!weightNames.has(name)) fail('UNKNOWN_TENSOR', `'welcome' message, field 'statistics': '${name}' is not one of the ${weights.length} weights`);
      if (trainableNames.has(name)) f.bad('statistics', `names not in 'trainable'`, name);
    }
    const shard = f.map('shardInfo');
    const workers = shard.count('workers');
    if (workers < 1) shard.bad('workers', 'an integer ≥ 1', workers);
    const workerIndex = shard.count('workerIndex');
    if (workerIndex >= workers) shard.bad('workerIndex', `an integer below workers (${workers})`, workerIndex);
    return withOptional(
      {
        type: 'welcome',
        runId: f.name('runId'),
        config: f.json('config'),
        modelSpec: f.json('modelSpec'),
        weightsVersion: f.count('weightsVersion'),
        weights,
        trainable,
        shardInfo: { workerIndex, workers },
      },
      { statistics },
    );
  },

  step: (f) =>
    withOptional(
      {
        type: 'step',
        step: f.count('step'),
        epoch: f.count('epoch'),
        weightsVersion: f.count('weightsVersion'),
        indices: f.indices('indices'),
        augmentSeed: f.uint32('augmentSeed'),
      },
      { nextIndices: f.optionalIndices('nextIndices'), nextAugmentSeed: f.optionalUint32('nextAugmentSeed') },
    ),

  gradients: (f) => {
    const exampleCount = f.count('exampleCount');
    const correct = f.count('correct');
    if (correct > exampleCount) f.bad('correct', `at most exampleCount (${exampleCount})`, correct);
    const timings = f.map('timings');
    return {
      type: 'gradients',
      step: f.count('step'),
      weightsVersion: f.count('weightsVersion'),
      workerId: f.workerId('workerId'),
      exampleCount,
      loss: f.anyNumber('loss'),
      correct,
      gradients: f.tensors('gradients'),
      bnStats: f.tensors('bnStats'),
      timings: { computeMs: timings.finite('computeMs'), encodeMs: timings.finite('encodeMs') },
    };
  },

  weights: (f) => ({
    type: 'weights',
    weightsVersion: f.count('weightsVersion'),
    step: f.count('step'),
    tensors: f.tensors('tensors'),
    full: f.boolean('full'),
  }),

  heartbeat: (f) => ({ type: 'heartbeat', time: f.finite('time') }),

  error: (f) => ({ type: 'error', code: f.name('code'), message: f.text('message') }),

  bye: (f) => ({ type: 'bye', reason: f.text('reason') }),
};

const MESSAGE_TYPES = new Set<string>(Object.keys(schemas));

export function isMessageType(value: unknown): value is MessageType {
  return typeof value === 'string' && MESSAGE_TYPES.has(value);
}

/**
 * Checks a decoded value against the schema of its `type`. Never throws; on success the message is
 * a fresh object holding only the known fields (tensor data still views the decoded bytes).
 */
export function validateMessage(value: unknown, limits: Partial<DecodeLimits> = {}): DecodeResult {
  if (!isPlainObject(value)) {
    return { ok: false, error: protocolError('NOT_AN_OBJECT', `a message must be a map, got ${describeValue(value)}`) };
  }
  const type = Object.hasOwn(value, 'type') ? value.type : undefined;
  if (type === undefined) return { ok: false, error: protocolError('MISSING_FIELD', `message has no field 'type'`) };
  if (!isMessageType(type)) {
    const known = [...MESSAGE_TYPES].join(', ');
    const code = typeof type === 'string' ? 'UNKNOWN_TYPE' : 'BAD_FIELD';
    return { ok: false, error: protocolError(code, `message field 'type': expected one of ${known}, got ${describeValue(type)}`) };
  }
  try {
    const reader = FieldReader.forMessage(value, type, resolveLimits(limits));
    return { ok: true, message: (schemas[type] as Schema<MessageType>)(reader) };
  } catch (error) {
    if (error instanceof InvalidMessage) return { ok: false, error: error.error };
    // Only a bug here (or a stack overflow) gets this far; still an answer, not a throw.
    return { ok: false, error: protocolError('BAD_FIELD', `'${type}' message could not be validated: ${String(error)}`) };
  }
}

/** `base` plus those optional fields that are present, so absent ones stay absent (not `undefined`). */
function withOptional<T extends object, O extends object>(base: T, optional: O): T & Partial<O> {
  const result = { ...base } as Record<string, unknown>;
  for (const [key, value] of Object.entries(optional)) if (value !== undefined) result[key] = value;
  return result as T & Partial<O>;
}

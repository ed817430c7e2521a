import { pack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, PROTOCOL_VERSION, type DecodeResult, type Message, type WelcomeMessage } from '../../src/protocol/index.js';
import { sampleMessages, seededRandom } from './fixtures.js';

// An oracle written apart from validate.ts: what a well-formed decoded message looks like.
type Check = (v: unknown) => boolean;
const isMap = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;
const count: Check = (v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const finite: Check = (v) => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const text: Check = (v) => typeof v === 'string';
const name: Check = (v) => typeof v === 'string' && v.length > 0;
const id: Check = (v) => typeof v === 'string' && /^[A-Za-z0-9._:@-]+$/.test(v);
const bool: Check = (v) => typeof v === 'boolean';
const bin = (length: number): Check => (v) => v instanceof Uint8Array && v.byteLength === length;
const uint32: Check = (v) => count(v) && (v as number) <= 0xffffffff;
const optional = (check: Check): Check => (v) => v === undefined || check(v);
const indices: Check = (v) => v instanceof Int32Array && v.every((i) => i >= 0);
const json: Check = (v) =>
  v === null || typeof v === 'boolean' || typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)) ||
  (Array.isArray(v) && v.every(json)) || (isMap(v) && Object.values(v).every(json));
const ELEMENT_BYTES: Record<string, number> = { float32: 4, float16: 2, bfloat16: 2 };
const tensor: Check = (v) =>
  isMap(v) && name(v.name) && Array.isArray(v.shape) && v.shape.every(count) && typeof v.dtype === 'string' && Object.hasOwn(ELEMENT_BYTES, v.dtype) &&
  v.data instanceof Uint8Array && v.data.byteLength === ELEMENT_BYTES[v.dtype] * (v.shape as number[]).reduce((a, b) => a * b, 1);
const tensors: Check = (v) =>
  Array.isArray(v) && v.every(tensor) && new Set(v.map((t: { name: string }) => t.name)).size === v.length;
const shape = (fields: Record<string, Check>): Check => (v) =>
  isMap(v) && Object.keys(v).every((k) => k in fields) && Object.entries(fields).every(([k, check]) => check(v[k]));

const wellFormed: Record<Message['type'], Check> = {
  hello: shape({ type: text, workerId: id, protocolVersion: (v) => v === PROTOCOL_VERSION, nonce: bin(32),
    backend: name, device: name, pid: count, resume: optional(bool) }),
  challenge: shape({ type: text, nonce: bin(32), proof: bin(32) }),
  auth: shape({ type: text, proof: bin(32) }),
  welcome: (v) => {
    const fields = shape({ type: text, runId: name, config: (c) => isMap(c) && json(c), modelSpec: (c) => isMap(c) && json(c),
      weightsVersion: count, weights: tensors, trainable: (t) => Array.isArray(t) && t.every(name) && new Set(t).size === t.length,
      shardInfo: shape({ workerIndex: count, workers: count }), wireDtype: optional((d) => typeof d === 'string' && Object.hasOwn(ELEMENT_BYTES, d)) });
    if (!fields(v)) return false;
    const w = v as unknown as WelcomeMessage;
    const weightNames = new Set(w.weights.map((t) => t.name));
    const sameDtype = w.weights.every((t) => t.dtype === (w.wireDtype ?? 'float32'));
    return sameDtype && w.shardInfo.workerIndex < w.shardInfo.workers && w.trainable.every((n) => weightNames.has(n));
  },
  step: shape({ type: text, step: count, epoch: count, weightsVersion: count, indices, nextIndices: optional(indices),
    augmentSeed: uint32, nextAugmentSeed: optional(uint32) }),
  gradients: (v) => shape({ type: text, step: count, weightsVersion: count, workerId: id, exampleCount: count,
    loss: (l) => typeof l === 'number', correct: count, gradients: tensors, bnStats: tensors,
    timings: shape({ computeMs: finite, encodeMs: finite }) })(v) &&
    (v as { correct: number }).correct <= (v as { exampleCount: number }).exampleCount,
  weights: shape({ type: text, weightsVersion: count, step: count, tensors, full: bool }),
  heartbeat: shape({ type: text, time: finite }),
  error: shape({ type: text, code: name, message: text }),
  bye: shape({ type: text, reason: text }),
};

/** Every path to a field or array element below `value`, not descending into binary data. */
function fieldPaths(value: unknown, prefix: string[] = []): string[][] {
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array) return [];
  return Object.keys(value).flatMap((key) => {
    const path = [...prefix, key];
    return [path, ...fieldPaths((value as Record<string, unknown>)[key], path)];
  });
}

/** Fails the test when a decode that claims success returned something malformed or unstable. */
function expectSound(result: DecodeResult, input: Uint8Array): void {
  if (!result.ok) {
    expect(typeof result.error.code).toBe('string');
    return;
  }
  const { message } = result;
  const where = `input ${Buffer.from(input).toString('hex').slice(0, 200)}`;
  expect(wellFormed[message.type]?.(message), where).toBe(true);
  expect(decodeMessage(encodeMessage(message)), where).toEqual({ ok: true, message });
}

function decodeWithoutThrowing(bytes: Uint8Array): DecodeResult {
  try {
    return decodeMessage(bytes);
  } catch (error) {
    throw new Error(`decodeMessage threw on ${Buffer.from(bytes).toString('hex').slice(0, 200)}: ${String(error)}`);
  }
}

const CASES = 5_000;

describe('decodeMessage under fuzzing (seeded, reproducible)', () => {
  const encoded = sampleMessages().map(encodeMessage);

  it('never throws and never accepts garbage on random byte strings', { timeout: 10_000 }, () => {
    const random = seededRandom(0xdecade);
    for (let i = 0; i < CASES; i++) {
      const bytes = Uint8Array.from({ length: Math.floor(random() * 300) }, () => Math.floor(random() * 256));
      // Half start with a map header, to get past the first byte more often.
      if (i % 2 === 0 && bytes.length > 0) bytes[0] = 0x80 | Math.floor(random() * 16);
      expectSound(decodeWithoutThrowing(bytes), bytes);
    }
  });

  it('never throws and never accepts a malformed message on truncated or bit-flipped frames', { timeout: 10_000 }, () => {
    const random = seededRandom(0xf11b);
    const outcomes = { ok: 0, refused: 0 };
    for (let i = 0; i < CASES; i++) {
      const original = encoded[Math.floor(random() * encoded.length)];
      let bytes: Uint8Array;
      if (i % 2 === 0) {
        bytes = original.slice(0, Math.floor(random() * original.length));
      } else {
        bytes = original.slice();
        const flips = 1 + Math.floor(random() * 4);
        for (let f = 0; f < flips; f++) bytes[Math.floor(random() * bytes.length)] ^= 1 << Math.floor(random() * 8);
      }
      const result = decodeWithoutThrowing(bytes);
      expectSound(result, bytes);
      outcomes[result.ok ? 'ok' : 'refused']++;
    }
    // Flips inside tensor data or numbers stay valid; every truncation must be refused.
    expect(outcomes.ok).toBeGreaterThan(0);
    expect(outcomes.refused).toBeGreaterThanOrEqual(CASES / 2);
  });

  it('never throws and never accepts a malformed message when a field is replaced by a value of another kind', { timeout: 10_000 }, () => {
    const random = seededRandom(0x5eed);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
    const strangeValues: unknown[] = [
      null, true, -1, 0.5, 2 ** 53, Number.NaN, Number.NEGATIVE_INFINITY, 2n ** 63n, '', 'x'.repeat(5000), 'bad id',
      [], [1, 'a'], {}, { name: 'w' }, new Uint8Array(3), new Uint8Array(8), new Date(0), 'float32', 'hello',
      'conv/kernel', ['bn/gamma', 'bn/gamma'], ['nope'], // names already taken, or not among the weights
    ];
    const wires = sampleMessages().map((m) => decodeMessage(encodeMessage(m))).map((r) => (r.ok ? r.message : null));
    for (let i = 0; i < CASES; i++) {
      const wire = structuredClone(pick(wires)) as unknown as Record<string, unknown>;
      if (wire.type === 'step') {
        wire.indices = new Uint8Array((wire.indices as Int32Array).buffer);
        delete wire.nextIndices;
      }
      // Pick any field at any depth (tensor fields and shape entries included), then replace or delete it.
      const path = pick(fieldPaths(wire));
      const parent = path.slice(0, -1).reduce<Record<string, unknown>>((node, key) => node[key] as Record<string, unknown>, wire);
      const key = path[path.length - 1];
      const current = parent[key];
      if (random() < 0.1) delete parent[key];
      else if (typeof current === 'number' && random() < 0.5) parent[key] = current + pick([-1, 1, 1000, -current - 1]); // near misses
      else parent[key] = pick(strangeValues);
      const bytes = pack(wire);
      expectSound(decodeWithoutThrowing(bytes), bytes);
    }
  });
});

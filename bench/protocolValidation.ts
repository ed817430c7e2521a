// `node --import tsx bench/protocolValidation.ts`: what validating one full gradients frame of
// DSDC-Net (default model spec) costs, decoded from msgpack as a coordinator receives it:
//   validateMessage  the whole validation (src/protocol/validate.ts): the compiled TypeBox schema
//                    of 'gradients', then the checks no schema expresses (data length vs shape,
//                    duplicates, correct ≤ exampleCount) and the copy into a fresh message;
//                    '… run limits' the same with a coordinator's own limits object
//   schema only      Check of the compiled schema alone (src/protocol/schemas.ts), for scale
//   finiteness       findNonFinite over the tensors (the receiver's check after validation, for scale)
// Prints µs per frame (median of ROUNDS rounds of ITERATIONS frames) for each.
import * as tf from '@tensorflow/tfjs';
import { Unpackr } from 'msgpackr';
import { buildDsdcNet } from '../src/model/index.js';
import { DEFAULT_MODEL_SPEC } from '../src/model/spec.js';
import { elementCount, encodeMessage, encodeTensor, findNonFinite, validateMessage, type GradientsMessage, type WireTensor } from '../src/protocol/index.js';
import { compiledSchemas } from '../src/protocol/schemas.js';
import { movingStatisticVariables, trainableVariables, variableShapes } from '../src/training/replica/variables.js';

const ROUNDS = 15;
const ITERATIONS = 200;

function gradientsFrame(): { bytes: Uint8Array; params: number } {
  const model = buildDsdcNet(DEFAULT_MODEL_SPEC);
  const trainable = variableShapes(trainableVariables(model));
  const moving = variableShapes(movingStatisticVariables(model));
  const tensors = (shapes: Map<string, number[]>): WireTensor[] =>
    [...shapes].map(([name, shape]) => encodeTensor(name, shape, Float32Array.from({ length: elementCount(shape) }, (_, i) => Math.sin(i) * 1e-3)));
  const message: GradientsMessage = {
    type: 'gradients', step: 12, weightsVersion: 12, workerId: 'bench-worker', exampleCount: 32, loss: 2.1, correct: 7,
    gradients: tensors(trainable), bnStats: tensors(moving), timings: { computeMs: 40, encodeMs: 1 },
  };
  const params = [...trainable.values(), ...moving.values()].reduce((n, s) => n + elementCount(s), 0);
  model.dispose();
  return { bytes: encodeMessage(message), params };
}

function microsPerFrame(what: string, run: () => unknown): number {
  const rounds: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < ITERATIONS; i++) if (!run()) throw new Error(`${what}: a valid frame was refused`);
    rounds.push(Number(process.hrtime.bigint() - started) / 1000 / ITERATIONS);
  }
  return rounds.sort((a, b) => a - b)[Math.floor(ROUNDS / 2)];
}

await tf.setBackend('cpu');
const { bytes, params } = gradientsFrame();
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });
const decoded = unpackr.unpack(bytes);
const check = compiledSchemas().gradients;
// Tensor values are read from validated tensors (plain Uint8Array views of the frame).
const result = validateMessage(decoded);
if (!result.ok || result.message.type !== 'gradients') throw new Error('the bench frame does not validate');
const validated = result.message;
/** What a coordinator passes with every frame (its own object, not frozen): the schemas of this limit set. */
const runLimits = { maxPayloadBytes: 4 * 1024 * 1024, maxIndices: 256 };
const results = {
  validateMessage: microsPerFrame('validateMessage', () => validateMessage(decoded).ok),
  '… run limits': microsPerFrame('… run limits', () => validateMessage(decoded, runLimits).ok),
  'schema only': microsPerFrame('schema only', () => check.Check(decoded)),
  finiteness: microsPerFrame('finiteness', () => findNonFinite([...validated.gradients, ...validated.bnStats]) === null),
  'msgpack decode': microsPerFrame('msgpack decode', () => unpackr.unpack(bytes)),
};
console.log(`gradients frame: ${bytes.byteLength} bytes, ${params} float32 values, ${decoded.gradients.length + decoded.bnStats.length} tensors`);
for (const [name, us] of Object.entries(results)) console.log(`${name.padEnd(16)} ${us.toFixed(2).padStart(8)} µs per frame`);

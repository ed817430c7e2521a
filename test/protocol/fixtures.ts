// Sample messages of every type, and a gradient message the size of DSDC-Net, shared by the protocol tests.

import { DEFAULT_TRAIN_CONFIG } from '../../src/training/setup/config.js';
import { encodeTensor, NONCE_BYTES, PROOF_BYTES, PROTOCOL_VERSION, type Message, type TensorSpec, type WireTensor } from '../../src/protocol/index.js';

/** Deterministic pseudo-random numbers (mulberry32), so failures reproduce. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomTensor(spec: TensorSpec, random: () => number): WireTensor {
  const count = spec.shape.reduce((a, b) => a * b, 1);
  const values = Float32Array.from({ length: count }, () => random() * 2 - 1);
  return encodeTensor(spec.name, spec.shape, values);
}

/**
 * The variables of DSDC-Net with the default model spec (stem 32 filters, separable dilated blocks of
 * 64, 64, 128, 128 filters, batch norm, 10-class head), named as the model names them:
 * 21 trainable tensors holding 35,722 values and 10 batch-norm statistics holding 832.
 */
export function dsdcLayout(): { trainable: TensorSpec[]; bnStats: TensorSpec[] } {
  const trainable: TensorSpec[] = [{ name: 'stem_conv/kernel', shape: [3, 3, 1, 32] }];
  const bnStats: TensorSpec[] = [];
  const batchNorm = (layer: string, channels: number) => {
    trainable.push({ name: `${layer}/gamma`, shape: [channels] }, { name: `${layer}/beta`, shape: [channels] });
    bnStats.push({ name: `${layer}/moving_mean`, shape: [channels] }, { name: `${layer}/moving_variance`, shape: [channels] });
  };
  batchNorm('stem_bn', 32);
  let channels = 32;
  [64, 64, 128, 128].forEach((filters, i) => {
    trainable.push(
      { name: `sdc${i + 1}/depthwise_kernel`, shape: [3, 3, channels, 1] },
      { name: `sdc${i + 1}/pointwise_kernel`, shape: [1, 1, channels, filters] },
    );
    batchNorm(`sdc${i + 1}_bn`, filters);
    channels = filters;
  });
  trainable.push({ name: 'head/kernel', shape: [channels, 10] }, { name: 'head/bias', shape: [10] });
  return { trainable, bnStats };
}

/** `length` bytes counting up from `start`, for nonces and proofs that must only be recognisable. */
export function bytes(length: number, start: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (start + i) & 0xff);
}

export function int32Range(start: number, count: number): Int32Array {
  return Int32Array.from({ length: count }, (_, i) => start + i);
}

/** One valid message of every type (small tensors, so fuzzing stays fast). */
export function sampleMessages(): Message[] {
  const random = seededRandom(7);
  const specs: TensorSpec[] = [
    { name: 'conv/kernel', shape: [3, 3, 1, 4] },
    { name: 'bn/gamma', shape: [4] },
    { name: 'bn/moving_mean', shape: [4] },
    { name: 'scalar', shape: [] },
    { name: 'empty', shape: [0, 3] },
  ];
  const tensors = specs.map((s) => randomTensor(s, random));
  return [
    { type: 'hello', workerId: 'host-1:4242', protocolVersion: PROTOCOL_VERSION, backend: 'tensorflow', device: 'cpu x8', pid: 4242, nonce: bytes(NONCE_BYTES, 1) },
    { type: 'challenge', nonce: bytes(NONCE_BYTES, 2), proof: bytes(PROOF_BYTES, 3) },
    { type: 'auth', proof: bytes(PROOF_BYTES, 4) },
    {
      type: 'hello',
      workerId: 'w@gpu.0',
      protocolVersion: PROTOCOL_VERSION,
      nonce: bytes(NONCE_BYTES, 5),
      backend: 'wasm',
      device: 'NVIDIA H100',
      pid: 7,
      resume: true,
    },
    {
      type: 'welcome',
      runId: 'run-2024-01-01T00-00-00Z',
      config: { ...DEFAULT_TRAIN_CONFIG, batchSize: 256, classes: [3, 1, 4], frozenLayers: ['stem'] },
      modelSpec: DEFAULT_TRAIN_CONFIG.model,
      weightsVersion: 0,
      weights: tensors,
      trainable: ['conv/kernel', 'bn/gamma'],
      shardInfo: { workerIndex: 1, workers: 3 },
    },
    { type: 'step', step: 0, epoch: 0, weightsVersion: 0, indices: int32Range(100, 16), augmentSeed: 0xffffffff },
    {
      type: 'step',
      step: 12,
      epoch: 1,
      weightsVersion: 12,
      indices: Int32Array.from([59_999, 0, 7]),
      nextIndices: new Int32Array(0),
      augmentSeed: 1,
      nextAugmentSeed: 2,
    },
    {
      type: 'gradients',
      step: 12,
      weightsVersion: 12,
      workerId: 'host-1:4242',
      exampleCount: 16,
      loss: 0.6931,
      correct: 11,
      gradients: tensors.slice(0, 2),
      bnStats: tensors.slice(2, 3),
      timings: { computeMs: 41.5, encodeMs: 0.25 },
    },
    { type: 'weights', weightsVersion: 13, step: 12, tensors, full: true },
    { type: 'weights', weightsVersion: 14, step: 13, tensors: [], full: false },
    { type: 'heartbeat', time: 1_700_000_000_123.5 },
    { type: 'error', code: 'BAD_TOKEN', message: 'token does not match --token of the coordinator' },
    { type: 'bye', reason: '' },
  ];
}

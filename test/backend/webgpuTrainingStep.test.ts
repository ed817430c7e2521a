// A whole training step of the default DSDC-Net (dilations 1, 2, 4, a max-pool, batch norm) on
// webgpu: the same gradients as wasm, every kernel on the GPU backend, no CPU forwarding and no
// read-back until the one read of the step's results.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import { splitExamples } from '../../src/data/examples.js';
import type { Split } from '../../src/data/types.js';
import { DEFAULT_MODEL_SPEC } from '../../src/model/spec.js';
import { Replica, type TimedContribution } from '../../src/training/replica/replica.js';
import { namedVariables, variableShapes } from '../../src/training/replica/variables.js';
import { seededInitialWeights } from '../../src/training/setup/initialWeights.js';
import { relativeError } from '../ops/helpers.js';
import { startWebGpu } from './webgpuAvailability.js';

const gpu = await startWebGpu();
const BATCH = 3;
const SEED = 5;

function syntheticSplit(count: number): Split {
  const images = Uint8Array.from({ length: count * 28 * 28 }, (_, i) => (i * 2654435761) % 251);
  const labels = Uint8Array.from({ length: count }, (_, i) => (i * 7) % 10);
  return { images, labels, count, rows: 28, cols: 28 };
}

/** A replica on the active backend, with `weights` if given. */
function replicaWithWeights(weights?: Map<string, Float32Array>): Replica {
  const replica = new Replica(DEFAULT_MODEL_SPEC, splitExamples(syntheticSplit(BATCH)), 0);
  if (weights) replica.setWeights(weights);
  return replica;
}

async function stepOn(backend: 'wasm' | 'webgpu', weights: Map<string, Float32Array>): Promise<TimedContribution> {
  if (backend === 'wasm') await initBackend('wasm');
  else await initBackend('webgpu', () => {}, { allowSoftwareAdapter: true });
  const replica = replicaWithWeights(weights);
  try {
    return await replica.compute(replica.prepare(Int32Array.from({ length: BATCH }, (_, i) => i), SEED), 0);
  } finally {
    replica.dispose();
  }
}

interface StepRecord {
  kernels: Set<string>;
  offBackend: string[];
  cpuForwarded: number;
  readSyncs: number;
  reads: number;
}

/** Runs `body` recording every kernel the engine dispatches and every read of the webgpu backend. */
async function recorded<T>(body: () => Promise<T>): Promise<{ result: T; record: StepRecord }> {
  const engine = tf.engine() as unknown as { runKernel: (...args: unknown[]) => unknown };
  const backend = tf.backend() as unknown as Record<string, (...args: unknown[]) => unknown>;
  const record: StepRecord = { kernels: new Set(), offBackend: [], cpuForwarded: 0, readSyncs: 0, reads: 0 };
  const originals = { runKernel: engine.runKernel, shouldExecuteOnCPU: backend.shouldExecuteOnCPU, readSync: backend.readSync, read: backend.read };
  engine.runKernel = function (this: unknown, ...args: unknown[]) {
    const name = args[0] as string;
    record.kernels.add(name);
    if (tf.getBackend() !== 'webgpu' || tf.getKernel(name, 'webgpu') === undefined) record.offBackend.push(name);
    return originals.runKernel.apply(this, args);
  };
  backend.shouldExecuteOnCPU = function (this: unknown, ...args: unknown[]) {
    const onCpu = originals.shouldExecuteOnCPU.apply(this, args) as boolean;
    if (onCpu) record.cpuForwarded++;
    return onCpu;
  };
  backend.readSync = function (this: unknown, ...args: unknown[]) {
    record.readSyncs++;
    return originals.readSync.apply(this, args);
  };
  backend.read = function (this: unknown, ...args: unknown[]) {
    record.reads++;
    return originals.read.apply(this, args);
  };
  try {
    return { result: await body(), record };
  } finally {
    Object.assign(engine, { runKernel: originals.runKernel });
    Object.assign(backend, { shouldExecuteOnCPU: originals.shouldExecuteOnCPU, readSync: originals.readSync, read: originals.read });
  }
}

describe.skipIf(gpu.skip)('a training step on webgpu', () => {
  it('starts the webgpu backend (in CI a missing adapter is a failure, not a skip)', () => {
    expect(gpu.unavailable).toBeUndefined();
  });

  it("computes wasm's loss and gradients (1e-4 relative) and the same batch norm statistics", async () => {
    await initBackend('wasm');
    // Seeded weights, not the model's own initialisers (unseeded): the same step in every run, so
    // that no preactivation lies by chance within rounding of a ReLU's or max-pool's edge, where
    // wasm and webgpu may route a gradient differently (about one process in ten did so).
    const seeded = replicaWithWeights();
    const weights = seededInitialWeights(variableShapes(namedVariables(seeded.model)), SEED);
    seeded.dispose();
    const wasm = await stepOn('wasm', weights);
    const webgpu = await stepOn('webgpu', weights);
    expect(Math.abs(webgpu.loss - wasm.loss) / wasm.loss).toBeLessThan(1e-5);
    expect(webgpu.correct).toBe(wasm.correct);
    expect([...webgpu.gradients.keys()].sort()).toEqual([...wasm.gradients.keys()].sort());
    const errors: string[] = [];
    for (const [name, g] of wasm.gradients) {
      const e = relativeError(webgpu.gradients.get(name)!, g);
      errors.push(`${name} ${e.toExponential(2)}`);
      expect(e, name).toBeLessThan(1e-4);
    }
    for (const [name, s] of wasm.movingStatistics) expect(relativeError(webgpu.movingStatistics.get(name)!, s), name).toBeLessThan(1e-5);
    console.log(`webgpu vs wasm, relative error per gradient: ${errors.join(', ')}`);
  });

  it('runs every kernel of the step on webgpu, forwards nothing to the CPU and reads back once', async () => {
    await initBackend('webgpu', () => {}, { allowSoftwareAdapter: true });
    expect(tf.env().getBool('WEBGPU_CPU_FORWARD')).toBe(false);
    const replica = replicaWithWeights();
    const batch = replica.prepare(Int32Array.from({ length: BATCH }, (_, i) => i), SEED);
    try {
      // The first step compiles the pipelines; the second is the steady state that is checked.
      await replica.compute(batch, 0);
      const { result, record } = await recorded(() => replica.compute(batch, 1));
      expect(Number.isFinite(result.loss)).toBe(true);
      expect(record.offBackend).toEqual([]);
      for (const ours of ['DsdcDepthwiseConv2dDilatedBackpropFilter', 'DsdcMatMulTransposeA', 'DsdcBatchNormReluForward', 'DsdcBatchNormReluBackward']) {
        expect(record.kernels, ours).toContain(ours);
      }
      expect(record.cpuForwarded).toBe(0);
      expect(record.readSyncs).toBe(0);
      expect(record.reads).toBe(1);
      console.log(`kernels of one webgpu step: ${[...record.kernels].sort().join(', ')}`);
    } finally {
      replica.dispose();
    }
  });

  it('the recorder does see CPU forwarding and extra reads when they happen (so the check above can fail)', async () => {
    await initBackend('webgpu', () => {}, { allowSoftwareAdapter: true });
    const replica = replicaWithWeights();
    const batch = replica.prepare(Int32Array.from({ length: BATCH }, (_, i) => i), SEED);
    tf.env().set('WEBGPU_CPU_FORWARD', true);
    try {
      const { record } = await recorded(async () => {
        const contribution = await replica.compute(batch, 0);
        // A small op on host-resident inputs is what the backend forwards to the CPU.
        await tf.tidy(() => tf.add(tf.tensor1d([1, 2, 3]), tf.tensor1d([4, 5, 6]))).data();
        return contribution;
      });
      expect(record.cpuForwarded).toBeGreaterThan(0);
      expect(record.reads).toBeGreaterThan(1);
    } finally {
      tf.env().set('WEBGPU_CPU_FORWARD', false);
      replica.dispose();
    }
  });

  it('leaves no tensor behind across steps', async () => {
    await initBackend('webgpu', () => {}, { allowSoftwareAdapter: true });
    const replica = replicaWithWeights();
    const batch = replica.prepare(Int32Array.from({ length: BATCH }, (_, i) => i), SEED);
    try {
      const counts: number[] = [];
      for (let step = 0; step < 3; step++) {
        const contribution = await replica.compute(batch, step);
        replica.setWeights(new Map([...contribution.gradients].map(([name, g]) => [name, g.map((v) => v * 0.01)])));
        counts.push(tf.memory().numTensors);
      }
      expect(new Set(counts).size).toBe(1);
    } finally {
      replica.dispose();
    }
  });
});

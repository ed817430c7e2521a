// The relay's copy of the run: it believes weights only as a worker would (the welcome's
// variable sets, shapes, finite values), keeps its own copy of them (decoded tensors are views
// into frames), gives each local worker the coordinator's welcome at the current version, and
// refuses a welcome after a reconnect that belongs to another run.
import { describe, expect, it } from 'vitest';
import { encodeTensor, type WelcomeMessage } from '../../src/protocol/index.js';
import { RelayRun } from '../../src/relay/relayRun.js';

function welcome(version: number, kernel: number[], config: Record<string, unknown> = { batchSize: 64 }): WelcomeMessage {
  return {
    type: 'welcome',
    runId: 'run-1',
    config: config as never,
    modelSpec: { widths: [4] } as never,
    weightsVersion: version,
    weights: [encodeTensor('a/kernel', [2, 2], Float32Array.from(kernel)), encodeTensor('bn/moving_mean', [2], Float32Array.from([0, 0]))],
    trainable: ['a/kernel'],
    statistics: ['bn/moving_mean'],
    shardInfo: { workerIndex: 0, workers: 2 },
  };
}

describe('RelayRun', () => {
  it('gives a local worker the coordinator\'s welcome at the current weights, placed among the relay\'s workers', () => {
    const run = new RelayRun();
    expect(run.adopt(welcome(3, [1, 2, 3, 4]))).toBe('first');
    expect(run.apply({ type: 'weights', weightsVersion: 4, step: 4, tensors: [encodeTensor('a/kernel', [2, 2], Float32Array.from([5, 6, 7, 8]))], full: false })).toBeUndefined();
    const local = run.localWelcome(1, 3);
    expect(local).toMatchObject({ runId: 'run-1', weightsVersion: 4, trainable: ['a/kernel'], statistics: ['bn/moving_mean'], shardInfo: { workerIndex: 1, workers: 3 } });
    expect([...run.weights.get('a/kernel')!]).toEqual([5, 6, 7, 8]);
    expect(run.fullWeights()).toMatchObject({ weightsVersion: 4, full: true });
    expect(run.fullWeights().tensors.map((t) => t.name)).toEqual(['a/kernel', 'bn/moving_mean']);
  });

  it('keeps its own copy of the weights, not a view into the frame they came in', () => {
    const run = new RelayRun();
    const first = welcome(0, [1, 2, 3, 4]);
    run.adopt(first);
    new Float32Array(first.weights[0].data.buffer, first.weights[0].data.byteOffset, 4).fill(9);
    expect([...run.weights.get('a/kernel')!]).toEqual([1, 2, 3, 4]);
  });

  it('refuses weights a worker would refuse (unknown name, wrong shape, NaN), and keeps the ones it had', () => {
    const run = new RelayRun();
    run.adopt(welcome(0, [1, 2, 3, 4]));
    expect(run.apply({ type: 'weights', weightsVersion: 1, step: 1, tensors: [encodeTensor('x/kernel', [1], Float32Array.from([1]))], full: false })).toMatch(/UNKNOWN_TENSOR/);
    expect(run.apply({ type: 'weights', weightsVersion: 1, step: 1, tensors: [encodeTensor('a/kernel', [4], Float32Array.from([1, 1, 1, 1]))], full: false })).toMatch(/SHAPE_MISMATCH/);
    expect(run.apply({ type: 'weights', weightsVersion: 1, step: 1, tensors: [encodeTensor('a/kernel', [2, 2], Float32Array.from([NaN, 1, 1, 1]))], full: false })).toMatch(/NaN/);
    expect(run.version).toBe(0);
    expect([...run.weights.get('a/kernel')!]).toEqual([1, 2, 3, 4]);
  });

  it('takes a later welcome of the same run (a reconnect), and refuses one of another run', () => {
    const run = new RelayRun();
    run.adopt(welcome(0, [1, 2, 3, 4]));
    expect(run.adopt(welcome(7, [4, 3, 2, 1]))).toBe('same');
    expect(run.version).toBe(7);
    expect(() => run.adopt(welcome(8, [1, 1, 1, 1], { batchSize: 128 }))).toThrow(/another config/);
  });
});

// A relay averages its local workers' parts by example count and the coordinator averages the
// relays' results the same way: the two-level average must be the flat average over every
// worker (what direct workers give), up to float32 rounding, for gradients and batch-norm
// statistics alike; and a relay whose part lost examples must not pass it off as complete.
import { describe, expect, it } from 'vitest';
import { upstreamGradients } from '../../src/relay/relayPart.js';
import { combineContributions, type StepContribution } from '../../src/training/optimizer/aggregate.js';
import { decodeTensorValues, type StepMessage } from '../../src/protocol/index.js';

function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

function part(count: number, random: () => number): StepContribution {
  const values = (n: number) => Float32Array.from({ length: n }, () => random() * 4);
  return {
    count,
    loss: 2 + random(),
    correct: Math.floor(count / 3),
    gradients: new Map([
      ['a/kernel', values(50)],
      ['b/bias', values(7)],
    ]),
    movingStatistics: new Map([['bn/moving_mean', values(5)]]),
  };
}

/** The definition, in float64: every example weighs 1/n, whichever worker computed it. */
function naiveMean(parts: StepContribution[], pick: (p: StepContribution) => Map<string, Float32Array>): Map<string, number[]> {
  const n = parts.reduce((s, p) => s + p.count, 0);
  const result = new Map<string, number[]>();
  for (const name of pick(parts[0]).keys()) {
    const sum = new Array<number>(pick(parts[0]).get(name)!.length).fill(0);
    for (const p of parts) pick(p).get(name)!.forEach((v, j) => (sum[j] += (p.count * v) / n));
    result.set(name, sum);
  }
  return result;
}

function expectClose(actual: Map<string, Float32Array>, expected: Map<string, number[]>): void {
  for (const [name, values] of expected) {
    const got = actual.get(name)!;
    values.forEach((v, j) => expect(Math.abs(got[j] - v), `${name}[${j}]`).toBeLessThanOrEqual(4e-7 * Math.max(1, Math.abs(v))));
  }
}

describe('relay sums', () => {
  it('two relays of two workers average to the flat average over four workers, within float32 rounding', () => {
    const random = seededRandom(3);
    const workers = [part(16, random), part(16, random), part(16, random), part(16, random)];
    const relays = [combineContributions(workers.slice(0, 2)), combineContributions(workers.slice(2))];
    const viaRelays = combineContributions(relays);
    expect(viaRelays.count).toBe(64);
    expect(viaRelays.correct).toBe(workers.reduce((s, w) => s + w.correct, 0));
    expect(viaRelays.loss).toBeCloseTo(workers.reduce((s, w) => s + w.loss * w.count, 0) / 64, 12);
    expectClose(viaRelays.gradients, naiveMean(workers, (p) => p.gradients));
    expectClose(viaRelays.movingStatistics, naiveMean(workers, (p) => p.movingStatistics));
  });

  it('uneven parts and relays of different sizes keep every example at weight 1/n', () => {
    const random = seededRandom(11);
    const workers = [part(11, random), part(10, random), part(10, random), part(1, random), part(32, random)];
    const viaRelays = combineContributions([combineContributions(workers.slice(0, 3)), combineContributions(workers.slice(3, 4)), workers[4]]);
    expect(viaRelays.count).toBe(64);
    expectClose(viaRelays.gradients, naiveMean(workers, (p) => p.gradients));
    expectClose(viaRelays.movingStatistics, naiveMean(workers, (p) => p.movingStatistics));
  });
});

describe('the relay\'s gradients message', () => {
  const step: StepMessage = { type: 'step', step: 4, epoch: 0, weightsVersion: 4, indices: Int32Array.from({ length: 32 }, (_, i) => i), augmentSeed: 9 };
  const shapes = new Map<string, readonly number[]>([
    ['a/kernel', [5, 10]],
    ['b/bias', [7]],
    ['bn/moving_mean', [5]],
  ]);
  const names = { trainable: ['a/kernel', 'b/bias'], statistics: ['bn/moving_mean'], shapes };
  const timings = { compute: 10, encode: 0, transfer: 1, wait_for_slowest: 0, aggregate: 0 };

  it('carries the combined mean with the total example count, as one worker with all the examples would', () => {
    const random = seededRandom(5);
    const contribution = combineContributions([part(16, random), part(16, random)]);
    const message = upstreamGradients(step, 'relay-a', { contribution, timings, bytes: 0, workers: 2 }, names);
    expect(message).toMatchObject({ type: 'gradients', step: 4, weightsVersion: 4, workerId: 'relay-a', exampleCount: 32, correct: contribution.correct, loss: contribution.loss });
    expect(message.gradients.map((t) => t.name)).toEqual(names.trainable);
    expect(message.bnStats.map((t) => t.name)).toEqual(names.statistics);
    expect([...decodeTensorValues(message.gradients[1])]).toEqual([...contribution.gradients.get('b/bias')!]);
  });

  it('refuses to report a part that lost examples (a local worker left) as complete', () => {
    const random = seededRandom(6);
    const contribution = part(16, random);
    expect(() => upstreamGradients(step, 'relay-a', { contribution, timings, bytes: 0, workers: 1 }, names)).toThrow(/16 of the part's 32 examples/);
  });
});

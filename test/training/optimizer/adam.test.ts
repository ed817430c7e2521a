import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { adamUpdate, createAdamState, DEFAULT_ADAM } from '../../../src/training/optimizer/adam.js';

/** Adam written out in float64, straight from Kingma & Ba (Algorithm 1). */
function naiveAdam(w: number[], grads: number[][], lr: number) {
  const m = w.map(() => 0);
  const v = w.map(() => 0);
  const { beta1, beta2, epsilon } = DEFAULT_ADAM;
  grads.forEach((g, step) => {
    const t = step + 1;
    for (let i = 0; i < w.length; i++) {
      m[i] = beta1 * m[i] + (1 - beta1) * g[i];
      v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
      const mHat = m[i] / (1 - beta1 ** t);
      const vHat = v[i] / (1 - beta2 ** t);
      w[i] -= (lr * mHat) / (Math.sqrt(vHat) + epsilon);
    }
  });
  return w;
}

describe('adamUpdate', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  const initial = [0.5, -0.25, 1.5, 0];
  const grads = [
    [0.1, -0.2, 0.3, 0],
    [0.05, 0.1, -0.4, 1e-6],
    [-0.3, 0.2, 0.1, -1e-6],
  ];

  it('matches a float64 reference over several steps', () => {
    const weights = new Map([['w', Float32Array.from(initial)]]);
    const state = createAdamState(weights, ['w']);
    for (const g of grads) adamUpdate(weights, new Map([['w', Float32Array.from(g)]]), state, 1e-2);
    const expected = naiveAdam([...initial], grads, 1e-2);
    weights.get('w')!.forEach((value, i) => expect(value).toBeCloseTo(expected[i], 6));
    expect(state.step).toBe(3);
  });

  it('matches tfjs tf.train.adam', () => {
    const variable = tf.variable(tf.tensor1d(initial));
    const optimizer = tf.train.adam(1e-2, DEFAULT_ADAM.beta1, DEFAULT_ADAM.beta2, DEFAULT_ADAM.epsilon);
    for (const g of grads) optimizer.applyGradients([{ name: variable.name, tensor: tf.tensor1d(g) }]);
    const weights = new Map([['w', Float32Array.from(initial)]]);
    const state = createAdamState(weights, ['w']);
    for (const g of grads) adamUpdate(weights, new Map([['w', Float32Array.from(g)]]), state, 1e-2);
    const theirs = variable.dataSync();
    weights.get('w')!.forEach((value, i) => expect(value).toBeCloseTo(theirs[i], 6));
  });

  it('refuses a gradient for a weight it does not optimise, naming it', () => {
    const weights = new Map([['w', new Float32Array(2)]]);
    const state = createAdamState(weights, ['w']);
    expect(() => adamUpdate(weights, new Map([['other', new Float32Array(2)]]), state, 1e-3)).toThrow(/other/);
  });

  it('does not apply a 1e30 gradient, whose square overflows the float32 second moment: weights, moments and step stay', () => {
    const weights = new Map([['a', Float32Array.from([0.5, -0.5])], ['b', Float32Array.from([1, 2])]]);
    const state = createAdamState(weights, ['a', 'b']);
    adamUpdate(weights, new Map([['a', Float32Array.from([0.1, 0.1])], ['b', Float32Array.from([0.1, 0.1])]]), state, 1e-2);
    const before = { a: [...weights.get('a')!], b: [...weights.get('b')!], v: [...state.secondMoment.get('a')!], step: state.step };
    // 'a' alone would be fine: nothing of it may be committed when 'b' fails.
    const outcome = adamUpdate(weights, new Map([['a', Float32Array.from([0.1, 0.1])], ['b', Float32Array.from([1e30, 0])]]), state, 1e-2);
    expect(outcome).toEqual({ applied: false, problem: 'Adam state "adam/v/b"[0] would become Infinity (gradient value 1.000e+30)' });
    expect([...weights.get('a')!]).toEqual(before.a);
    expect([...weights.get('b')!]).toEqual(before.b);
    expect([...state.secondMoment.get('a')!]).toEqual(before.v);
    expect(state.step).toBe(before.step);
  });

  it('after a refused update training goes on: the next ordinary gradient moves the weights as if the bad one never came', () => {
    const run = (withBad: boolean) => {
      const weights = new Map([['w', Float32Array.from(initial)]]);
      const state = createAdamState(weights, ['w']);
      adamUpdate(weights, new Map([['w', Float32Array.from(grads[0])]]), state, 1e-2);
      if (withBad) adamUpdate(weights, new Map([['w', new Float32Array(4).fill(1e30)]]), state, 1e-2);
      adamUpdate(weights, new Map([['w', Float32Array.from(grads[1])]]), state, 1e-2);
      return [...weights.get('w')!];
    };
    const withBad = run(true);
    expect(withBad).toEqual(run(false));
    expect(withBad[0]).not.toBe(initial[0]);
    naiveAdam([...initial], grads.slice(0, 2), 1e-2).forEach((value, i) => expect(withBad[i]).toBeCloseTo(value, 6));
  });
});

describe('adamUpdate with per-weight rate factors', () => {
  it('a weight with factor k moves as the reference at k × the rate; the others at the rate', () => {
    const weights = new Map([['head/kernel', Float32Array.from([0.5, -0.25])], ['sdc4/pointwise', Float32Array.from([1.5, 0])]]);
    const state = createAdamState(weights, ['head/kernel', 'sdc4/pointwise']);
    const steps = [
      [0.1, -0.2, 0.3, 0.01],
      [0.05, 0.1, -0.4, 0.02],
    ];
    for (const g of steps) {
      const gradients = new Map([['head/kernel', Float32Array.from(g.slice(0, 2))], ['sdc4/pointwise', Float32Array.from(g.slice(2))]]);
      adamUpdate(weights, gradients, state, 1e-4, DEFAULT_ADAM, new Map([['head/kernel', 30]]));
    }
    const head = naiveAdam([0.5, -0.25], steps.map((g) => g.slice(0, 2)), 3e-3);
    const body = naiveAdam([1.5, 0], steps.map((g) => g.slice(2)), 1e-4);
    weights.get('head/kernel')!.forEach((value, i) => expect(value).toBeCloseTo(head[i], 6));
    weights.get('sdc4/pointwise')!.forEach((value, i) => expect(value).toBeCloseTo(body[i], 6));
  });
});

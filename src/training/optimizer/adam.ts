// Adam on plain Float32Arrays (Kingma & Ba, Algorithm 1: ε added to the bias-corrected √v̂,
// as tf.train.adam and torch.optim.Adam do). The master weights live here rather than in tfjs variables so that the coordinator
// and the standalone worker apply exactly the same update, cheaply, with no tensors allocated.
import { TrainingError } from '../errors.js';

import { firstNonFinite } from '../../numerics/vectors.js';

export interface AdamHyperparameters {
  beta1: number;
  beta2: number;
  epsilon: number;
}

export const DEFAULT_ADAM: AdamHyperparameters = { beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };

export interface AdamState {
  /** Number of updates applied so far. */
  step: number;
  firstMoment: Map<string, Float32Array>;
  secondMoment: Map<string, Float32Array>;
}

export function createAdamState(weights: ReadonlyMap<string, Float32Array>, names: Iterable<string>): AdamState {
  const firstMoment = new Map<string, Float32Array>();
  const secondMoment = new Map<string, Float32Array>();
  for (const name of names) {
    const size = weights.get(name)?.length;
    if (size === undefined) throw new TrainingError('WEIGHTS_MISMATCH', `Adam: no weight named "${name}"`);
    firstMoment.set(name, new Float32Array(size));
    secondMoment.set(name, new Float32Array(size));
  }
  return { step: 0, firstMoment, secondMoment };
}

export type AdamOutcome = { applied: true } | { applied: false; problem: string };

/**
 * One Adam step for every gradient given. The new moments and weights are computed into fresh
 * float32 arrays first and checked: one huge gradient squares to +Infinity in the second moment,
 * and an Inf moment makes every later update of that weight exactly 0, for good. If any value
 * would be non-finite nothing is committed (weights, moments and the step count stay as they
 * were) and the outcome names the first offending tensor; otherwise `weights` and `state` are
 * updated in place.
 */
export function adamUpdate(
  weights: Map<string, Float32Array>,
  gradients: ReadonlyMap<string, Float32Array>,
  state: AdamState,
  learningRate: number,
  hyper: AdamHyperparameters = DEFAULT_ADAM,
  /** Per weight, a factor on `learningRate` (absent: 1), e.g. a fine-tune run's new head. */
  rateFactors: ReadonlyMap<string, number> = new Map(),
): AdamOutcome {
  const t = state.step + 1;
  const { beta1, beta2, epsilon } = hyper;
  const firstCorrection = 1 - beta1 ** t;
  const secondCorrection = 1 - beta2 ** t;
  const staged: { weight: Float32Array; m: Float32Array; v: Float32Array; next: [Float32Array, Float32Array, Float32Array] }[] = [];
  for (const [name, gradient] of gradients) {
    const weight = weights.get(name);
    const m = state.firstMoment.get(name);
    const v = state.secondMoment.get(name);
    if (!weight || !m || !v) throw new TrainingError('WEIGHTS_MISMATCH', `Adam: gradient for "${name}", which is not an optimised weight`);
    if (gradient.length !== weight.length) {
      throw new TrainingError('WEIGHTS_MISMATCH', `Adam: gradient for "${name}" has ${gradient.length} values, the weight has ${weight.length}`);
    }
    const nextM = new Float32Array(weight.length);
    const nextV = new Float32Array(weight.length);
    const nextW = new Float32Array(weight.length);
    const rate = learningRate * (rateFactors.get(name) ?? 1);
    for (let i = 0; i < weight.length; i++) {
      const g = gradient[i];
      nextM[i] = beta1 * m[i] + (1 - beta1) * g;
      nextV[i] = beta2 * v[i] + (1 - beta2) * g * g;
      nextW[i] = weight[i] - (rate * (nextM[i] / firstCorrection)) / (Math.sqrt(nextV[i] / secondCorrection) + epsilon);
    }
    // Checked after the float32 store: a value can overflow only there.
    for (const [label, values] of [[`adam/m/${name}`, nextM], [`adam/v/${name}`, nextV], [name, nextW]] as const) {
      const index = firstNonFinite(values);
      if (index >= 0) {
        const culprit = label === name ? `weight "${name}"` : `Adam state "${label}"`;
        return { applied: false, problem: `${culprit}[${index}] would become ${values[index]} (gradient value ${gradient[index].toPrecision(4)})` };
      }
    }
    staged.push({ weight, m, v, next: [nextW, nextM, nextV] });
  }
  for (const { weight, m, v, next } of staged) {
    weight.set(next[0]);
    m.set(next[1]);
    v.set(next[2]);
  }
  state.step = t;
  return { applied: true };
}

// Adam on plain Float32Arrays (Kingma & Ba, Algorithm 1: ε added to the bias-corrected √v̂,
// as tf.train.adam and torch.optim.Adam do). The master weights live here rather than in tfjs variables so that the coordinator
// and the standalone worker apply exactly the same update, cheaply, with no tensors allocated.
import { TrainingError } from '../errors.js';

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

/** Updates `weights` and `state` in place with one Adam step for every gradient given. */
export function adamUpdate(
  weights: Map<string, Float32Array>,
  gradients: ReadonlyMap<string, Float32Array>,
  state: AdamState,
  learningRate: number,
  hyper: AdamHyperparameters = DEFAULT_ADAM,
): void {
  state.step += 1;
  const t = state.step;
  const { beta1, beta2, epsilon } = hyper;
  const firstCorrection = 1 - beta1 ** t;
  const secondCorrection = 1 - beta2 ** t;
  for (const [name, gradient] of gradients) {
    const weight = weights.get(name);
    const m = state.firstMoment.get(name);
    const v = state.secondMoment.get(name);
    if (!weight || !m || !v) throw new TrainingError('WEIGHTS_MISMATCH', `Adam: gradient for "${name}", which is not an optimised weight`);
    if (gradient.length !== weight.length) {
      throw new TrainingError('WEIGHTS_MISMATCH', `Adam: gradient for "${name}" has ${gradient.length} values, the weight has ${weight.length}`);
    }
    for (let i = 0; i < weight.length; i++) {
      const g = gradient[i];
      m[i] = beta1 * m[i] + (1 - beta1) * g;
      v[i] = beta2 * v[i] + (1 - beta2) * g * g;
      weight[i] -= (learningRate * (m[i] / firstCorrection)) / (Math.sqrt(v[i] / secondCorrection) + epsilon);
    }
  }
}

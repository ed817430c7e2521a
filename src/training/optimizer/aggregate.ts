// Combines the contributions of several replicas to one global batch into the contribution a
// single process would have computed: every quantity that is a mean over examples (loss,
// gradients, batch-norm moving statistics) is averaged with weights equal to example counts.
import { TrainingError } from '../errors.js';

export interface StepContribution {
  count: number;
  /** Mean loss over this contribution's examples. */
  loss: number;
  correct: number;
  gradients: Map<string, Float32Array>;
  /** Batch norm moving statistics after this replica's forward pass. */
  movingStatistics: Map<string, Float32Array>;
}

export function combineContributions(parts: readonly StepContribution[]): StepContribution {
  if (parts.length === 0) throw new TrainingError('NO_CONTRIBUTIONS', 'combineContributions: no contributions to combine');
  const count = parts.reduce((sum, p) => sum + p.count, 0);
  if (count === 0) throw new TrainingError('NO_CONTRIBUTIONS', 'combineContributions: contributions hold no examples');
  if (parts.length === 1) return parts[0];
  const weightsOf = parts.map((p) => p.count / count);
  return {
    count,
    loss: parts.reduce((sum, p, i) => sum + p.loss * weightsOf[i], 0),
    correct: parts.reduce((sum, p) => sum + p.correct, 0),
    gradients: weightedAverage(parts.map((p) => p.gradients), weightsOf),
    movingStatistics: weightedAverage(parts.map((p) => p.movingStatistics), weightsOf),
  };
}

export function weightedAverage(maps: readonly ReadonlyMap<string, Float32Array>[], weights: readonly number[]): Map<string, Float32Array> {
  const result = new Map<string, Float32Array>();
  for (const [name, first] of maps[0]) {
    const sum = new Float32Array(first.length);
    maps.forEach((map, i) => {
      const values = map.get(name);
      if (!values || values.length !== first.length) {
        throw new TrainingError('WEIGHTS_MISMATCH', `weightedAverage: contribution ${i} lacks "${name}" or has a different size`);
      }
      const w = weights[i];
      for (let j = 0; j < sum.length; j++) sum[j] += w * values[j];
    });
    result.set(name, sum);
  }
  return result;
}

// Gradient norms the coordinator measures itself, at the run's current weights, on one global
// batch split into worker-sized parts. They are the first entries of the gradient norm bound's
// window, so the bound holds from the very first step: without them the first contributions
// would have nothing trusted to be compared with, and one huge one could set the median.
import { epochPermutation, globalBatchIndices, splitBatch } from '../../data/batching.js';
import { splitExamples } from '../../data/examples.js';
import type { Split } from '../../data/types.js';
import { globalNorm } from '../../numerics/vectors.js';
import type { TrainConfig } from './config.js';
import type { MasterState } from '../optimizer/masterState.js';
import { Replica } from '../replica/replica.js';

/** Norms of `parts` parts of the current epoch's first global batch (one forward and backward pass of a batch in all). */
export async function referenceGradientNorms(config: TrainConfig, train: Split, state: MasterState, parts: number): Promise<number[]> {
  const replica = new Replica(config.model, splitExamples(train), 0, config.frozenLayers);
  try {
    const perm = epochPermutation(train.count, config.seed, state.position.epoch);
    const batch = globalBatchIndices(perm, 0, config.batchSize);
    const norms: number[] = [];
    for (const indices of splitBatch(batch, Math.min(parts, batch.length))) {
      // Each part starts from the master's statistics, as every worker's does.
      replica.setWeights(state.weights);
      norms.push(globalNorm((await replica.compute(replica.prepare(indices, 0), state.position.globalStep)).gradients));
    }
    return norms;
  } finally {
    replica.dispose();
  }
}

// What a run's configuration means in steps: how many per epoch, where it stops, which examples
// each step takes, and the learning-rate schedule. Pure arithmetic on the config, no state.
import { epochPermutation, globalBatchIndices, stepsPerEpoch } from '../../data/batching.js';
import { epochSeed, mixSeeds } from '../../data/rng.js';
import type { TrainConfig } from '../setup/config.js';
import { plannedSteps } from '../setup/batchNormMomentum.js';
import type { ScheduleOptions } from './schedule.js';
import type { StepRequest } from './source.js';
import type { TrainingPosition } from '../optimizer/masterState.js';

export interface RunPlan {
  perEpoch: number;
  totalSteps: number;
  /** Epochs this run touches, for the log (`epoch 1/2`, not `1/10`, when --max-steps stops it early). */
  epochsShown: number;
  schedule: ScheduleOptions;
}

/** Seed of the random shifts of one epoch: the same example gets the same shift on any worker. */
export function augmentSeedFor(seed: number, epoch: number): number {
  return mixSeeds(epochSeed(seed, epoch), 0x5eed);
}

export function planRun(config: TrainConfig, trainCount: number): RunPlan {
  const perEpoch = stepsPerEpoch(trainCount, config.batchSize);
  const epochSteps = config.epochs * perEpoch;
  const totalSteps = plannedSteps(config, trainCount);
  return {
    perEpoch,
    totalSteps,
    epochsShown: Math.ceil(totalSteps / perEpoch),
    // The schedule spans the planned epochs; --max-steps only stops early, so a stopped and resumed
    // run follows the same learning-rate curve as an uninterrupted one.
    schedule: { kind: config.schedule, baseRate: config.learningRate, totalSteps: epochSteps, warmupSteps: config.warmupSteps },
  };
}

/**
 * The global batches of one epoch, and the first of the next one (for the replicas' prefetch).
 * With a validation split, the epoch's order runs over `trainIndices` (the examples not held out)
 * and the batches name those examples' indices in the training split.
 */
export class EpochBatches {
  private readonly permutation: Int32Array;
  private readonly nextPermutation?: Int32Array;

  constructor(
    private readonly config: TrainConfig,
    trainCount: number,
    private readonly epoch: number,
    private readonly perEpoch: number,
    trainIndices?: Int32Array,
  ) {
    const order = (e: number) => {
      const permutation = epochPermutation(trainIndices?.length ?? trainCount, config.seed, e);
      return trainIndices ? permutation.map((i) => trainIndices[i]) : permutation;
    };
    this.permutation = order(epoch);
    if (epoch + 1 < config.epochs) this.nextPermutation = order(epoch + 1);
  }

  /** The request for step `stepInEpoch`; `next` is left out after the run's last step. */
  request(stepInEpoch: number, position: TrainingPosition, totalSteps: number, weightsVersion: number): StepRequest {
    const following =
      stepInEpoch + 1 < this.perEpoch
        ? this.batch(this.epoch, this.permutation, stepInEpoch + 1)
        : this.nextPermutation
          ? this.batch(this.epoch + 1, this.nextPermutation, 0)
          : undefined;
    return {
      epoch: this.epoch,
      stepInEpoch,
      globalStep: position.globalStep,
      ...this.batch(this.epoch, this.permutation, stepInEpoch),
      next: position.globalStep + 1 < totalSteps ? following : undefined,
      weightsVersion,
    };
  }

  private batch(epoch: number, permutation: Int32Array, stepInEpoch: number) {
    return { indices: globalBatchIndices(permutation, stepInEpoch, this.config.batchSize), augmentSeed: augmentSeedFor(this.config.seed, epoch) };
  }
}

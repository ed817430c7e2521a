// The state an optimizer step changes: master weights, Adam moments, and the position in the
// data. Converting it to and from a checkpoint lives here too, so save and resume agree.
import * as tf from '@tensorflow/tfjs';
import type { NamedTensor } from '../../checkpoint/namedTensors.js';
import { checkMovingStatistics } from '../../numerics/movingStatistics.js';
import { clipByGlobalNorm } from '../../numerics/vectors.js';
import { type AdamState, adamUpdate, createAdamState } from './adam.js';
import type { StepContribution } from './aggregate.js';
import { TrainingError } from '../errors.js';

export interface ApplyOptions {
  /** Clip the combined gradient to this global norm first (torch's clip_grad_norm_); absent or 0: no clipping. */
  maxGradNorm?: number;
  /** Per weight, a factor on the learning rate (absent: 1). */
  rateFactors?: ReadonlyMap<string, number>;
}

export interface AppliedStep {
  /** Names of the variables whose values changed (empty when the step was refused). */
  changed: string[];
  /** Why nothing of the step was applied. */
  refused?: string;
  /** The norm before clipping and the factor applied, when --max-grad-norm clipped this step. */
  clipped?: { norm: number; scale: number };
}

export interface TrainingPosition {
  epoch: number;
  /** Steps of `epoch` already applied. */
  stepInEpoch: number;
  globalStep: number;
}

export class MasterState {
  /** Increases with every applied step; gradients name the version they were computed on. */
  weightsVersion = 0;

  constructor(
    readonly weights: Map<string, Float32Array>,
    readonly shapes: Map<string, number[]>,
    readonly trainableNames: string[],
    readonly movingStatisticNames: string[],
    readonly adam: AdamState,
    public position: TrainingPosition,
  ) {}

  static fresh(weights: Map<string, Float32Array>, shapes: Map<string, number[]>, trainable: string[], moving: string[]): MasterState {
    const position = { epoch: 0, stepInEpoch: 0, globalStep: 0 };
    return new MasterState(weights, shapes, trainable, moving, createAdamState(weights, trainable), position);
  }

  /**
   * One optimizer step from a combined contribution. Nothing is applied when the step would put a
   * non-finite value in the weights or Adam's state, or an impossible batch-norm statistic in the
   * model: the outcome says why, and the weights version stays, so workers keep computing on them.
   */
  apply(contribution: StepContribution, learningRate: number, options: ApplyOptions = {}): AppliedStep {
    const badStatistic = checkMovingStatistics(contribution.movingStatistics, new Map());
    if (badStatistic) return { changed: [], refused: `batch-norm statistic ${badStatistic}` };
    let gradients: ReadonlyMap<string, Float32Array> = contribution.gradients;
    let clipped: AppliedStep['clipped'];
    if (options.maxGradNorm !== undefined && options.maxGradNorm > 0) {
      const clip = clipByGlobalNorm(gradients, options.maxGradNorm);
      gradients = clip.gradients;
      if (clip.scale < 1) clipped = { norm: clip.norm, scale: clip.scale };
    }
    const outcome = adamUpdate(this.weights, gradients, this.adam, learningRate, undefined, options.rateFactors);
    if (!outcome.applied) return { changed: [], refused: outcome.problem, clipped };
    // Copies: received statistics may be views into a network frame.
    for (const [name, values] of contribution.movingStatistics) this.weights.set(name, values.slice());
    this.weightsVersion += 1;
    return { changed: [...contribution.gradients.keys(), ...contribution.movingStatistics.keys()], clipped };
  }

  /** Adam moments as named tensors for a checkpoint (the caller disposes them). */
  optimizerTensors(): NamedTensor[] {
    const tensors: NamedTensor[] = [];
    for (const name of this.trainableNames) {
      const shape = this.shapes.get(name)!;
      tensors.push({ name: `adam/m/${name}`, tensor: tf.tensor(this.adam.firstMoment.get(name)!, shape) });
      tensors.push({ name: `adam/v/${name}`, tensor: tf.tensor(this.adam.secondMoment.get(name)!, shape) });
    }
    return tensors;
  }

  /** Restores Adam moments saved by optimizerTensors(); every trainable weight must be present. */
  restoreOptimizer(tensors: NamedTensor[], adamStep: number, source: string): void {
    const byName = new Map(tensors.map((t) => [t.name, t.tensor]));
    for (const name of this.trainableNames) {
      for (const [prefix, target] of [['adam/m/', this.adam.firstMoment], ['adam/v/', this.adam.secondMoment]] as const) {
        const tensor = byName.get(prefix + name);
        if (!tensor || tensor.size !== this.weights.get(name)!.length) {
          throw new TrainingError('WEIGHTS_MISMATCH', `checkpoint ${source}: optimizer state for "${name}" is missing or has the wrong size`);
        }
        target.set(name, (tensor.dataSync() as Float32Array).slice());
      }
    }
    this.adam.step = adamStep;
  }
}

// A model replica: the part of a worker that turns (weights, example indices) into a step
// contribution. The standalone worker and every distributed worker use this same class.
import * as tf from '@tensorflow/tfjs';
import { gatherExamples, type Batch } from '../../data/batching.js';
import type { ExampleSource } from '../../data/examples.js';
import { BatchNormReLU } from '../../model/batchNormRelu.js';
import { buildDsdcNet } from '../../model/dsdcNet.js';
import type { ModelSpec } from '../../model/spec.js';
import type { StepContribution } from '../optimizer/aggregate.js';
import { freezeLayers } from './freeze.js';
import { batchTensors, computeGradients } from './gradientStep.js';
import { readAsOne, uploadArrays } from './hostTransfer.js';
import { movingStatisticVariables, namedVariables, trainableVariables, type NamedVariable } from './variables.js';
import { TrainingError } from '../errors.js';

export interface PreparedBatch extends Batch {
  indices: Int32Array;
}

export interface TimedContribution extends StepContribution {
  computeMs: number;
}

export class Replica {
  readonly model: tf.LayersModel;
  private readonly variables: Map<string, NamedVariable>;
  private readonly trainable: NamedVariable[];
  private readonly movingStatistics: NamedVariable[];
  private readonly batchNormLayers: BatchNormReLU[];

  constructor(
    readonly spec: ModelSpec,
    private readonly examples: ExampleSource,
    private readonly augmentShift: number,
    /** Layers that get no gradients (fine-tuning); their batch norm runs in inference mode. */
    readonly frozenLayers: readonly string[] = [],
  ) {
    this.model = buildDsdcNet(spec);
    freezeLayers(this.model, frozenLayers);
    this.variables = new Map(namedVariables(this.model).map((v) => [v.name, v]));
    this.trainable = trainableVariables(this.model);
    this.movingStatistics = movingStatisticVariables(this.model);
    this.batchNormLayers = this.model.layers.filter((l): l is BatchNormReLU => l instanceof BatchNormReLU);
  }

  /** Names of the variables whose gradients this replica computes. */
  trainableNames(): string[] {
    return this.trainable.map((v) => v.name);
  }

  /** Names of the batch-norm moving statistics this replica updates and reports. */
  movingStatisticNames(): string[] {
    return this.movingStatistics.map((v) => v.name);
  }

  /** Overwrites the named variables with one upload; names not given keep their values. */
  setWeights(weights: ReadonlyMap<string, Float32Array>): void {
    const targets = [...weights.keys()].map((name) => {
      const target = this.variables.get(name);
      if (!target) throw new TrainingError('WEIGHTS_MISMATCH', `replica: no variable named "${name}"`);
      const size = target.variable.shape.reduce((a, b) => a * b, 1);
      if (weights.get(name)!.length !== size) {
        throw new TrainingError('WEIGHTS_MISMATCH', `replica: variable "${name}" has ${size} values, but ${weights.get(name)!.length} came`);
      }
      return target;
    });
    const uploaded = uploadArrays([...weights.values()], targets.map((t) => t.variable.shape));
    targets.forEach((t, i) => t.variable.assign(uploaded[i]));
    tf.dispose(uploaded);
  }

  /** Every variable, read back as one buffer; fresh arrays the caller may keep or change. */
  async readWeights(): Promise<Map<string, Float32Array>> {
    const all = [...this.variables.values()];
    const values = await readAsOne(all.map((v) => v.variable));
    return new Map(all.map((v, i) => [v.name, values[i]]));
  }

  /** Gathers (and augments) a batch; cheap, and done ahead of time while waiting for weights. */
  prepare(indices: Int32Array, augmentSeed: number): PreparedBatch {
    const augment = this.augmentShift > 0 ? { maxShift: this.augmentShift, seed: augmentSeed } : undefined;
    return { ...gatherExamples(this.examples, indices, { augment }), indices };
  }

  /** The prefetched batch when it is the one asked for, else a freshly gathered one. */
  batchFor(indices: Int32Array, augmentSeed: number, prefetched?: PreparedBatch): PreparedBatch {
    const reusable = prefetched && prefetched.indices.length === indices.length && prefetched.indices.every((v, i) => v === indices[i]);
    return reusable ? prefetched : this.prepare(indices, augmentSeed);
  }

  /**
   * Gradients of one batch; globalStep (0-based) sets batch norm's warm start, see BatchNormReLU.
   * Gradients, moving statistics, loss and correct count reach the host as one read-back.
   */
  async compute(batch: PreparedBatch, globalStep?: number): Promise<TimedContribution> {
    const started = performance.now();
    if (globalStep !== undefined) {
      for (const layer of this.batchNormLayers) layer.statisticsUpdates = globalStep;
    }
    // The forward pass moves this replica's moving statistics; they are put back afterwards, so
    // that a replica's statistics change only by setWeights, to the master's. Otherwise a step that
    // is retried, or whose update was refused, would start from statistics the master never had.
    const statisticsBefore = this.movingStatistics.map((v) => tf.clone(v.variable));
    const { x, y } = batchTensors(batch.images, batch.labels, this.spec.inputShape, this.spec.numClasses);
    const result = computeGradients(this.model, this.trainable, x, y);
    const gradientNames = [...result.gradients.keys()];
    const tensors = [...result.gradients.values(), ...this.movingStatistics.map((v) => v.variable), result.loss, result.correct];
    try {
      const values = await readAsOne(tensors);
      const gradients = new Map(gradientNames.map((name, i) => [name, values[i]]));
      const statistics = values.slice(gradientNames.length, gradientNames.length + this.movingStatistics.length);
      const movingStatistics = new Map(this.movingStatistics.map((v, i) => [v.name, statistics[i]]));
      const [loss, correct] = [values[values.length - 2][0], values[values.length - 1][0]];
      return { count: batch.labels.length, loss, correct, gradients, movingStatistics, computeMs: performance.now() - started };
    } finally {
      tf.dispose([x, y, result.loss, result.correct, ...result.gradients.values()]);
      this.movingStatistics.forEach((v, i) => v.variable.assign(statisticsBefore[i]));
      tf.dispose(statisticsBefore);
    }
  }

  dispose(): void {
    this.model.dispose();
  }
}

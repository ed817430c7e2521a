// A model replica: the part of a worker that turns (weights, example indices) into a step
// contribution. The standalone worker and every distributed worker use this same class.
import * as tf from '@tensorflow/tfjs';
import { gatherExamples, type Batch } from '../data/batching.js';
import type { ExampleSource } from '../data/examples.js';
import { BatchNormReLU } from '../model/batchNormRelu.js';
import { buildDsdcNet } from '../model/dsdcNet.js';
import type { ModelSpec } from '../model/spec.js';
import type { StepContribution } from './aggregate.js';
import { freezeLayers } from './freeze.js';
import { batchTensors, computeGradients } from './gradientStep.js';
import { movingStatisticVariables, namedVariables, trainableVariables, type NamedVariable } from './variables.js';

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

  /** Overwrites the named variables; names not given keep their values. */
  setWeights(weights: ReadonlyMap<string, Float32Array>): void {
    tf.tidy(() => {
      for (const [name, values] of weights) {
        const target = this.variables.get(name);
        if (!target) throw new Error(`replica: no variable named "${name}"`);
        target.variable.assign(tf.tensor(values, target.variable.shape));
      }
    });
  }

  readWeights(): Map<string, Float32Array> {
    // Copies: some backends hand out their own storage, and callers mutate master weights.
    return new Map([...this.variables.values()].map((v) => [v.name, (v.variable.dataSync() as Float32Array).slice()]));
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

  /** Gradients of one batch; globalStep (0-based) sets batch norm's warm start, see BatchNormReLU. */
  compute(batch: PreparedBatch, globalStep?: number): TimedContribution {
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
    const gradients = new Map<string, Float32Array>();
    for (const [name, tensor] of result.gradients) {
      gradients.set(name, (tensor.dataSync() as Float32Array).slice());
      tensor.dispose();
    }
    const movingStatistics = new Map(this.movingStatistics.map((v) => [v.name, (v.variable.dataSync() as Float32Array).slice()]));
    this.movingStatistics.forEach((v, i) => v.variable.assign(statisticsBefore[i]));
    tf.dispose(statisticsBefore);
    const loss = result.loss.dataSync()[0];
    const correct = result.correct.dataSync()[0];
    tf.dispose([x, y, result.loss, result.correct]);
    return { count: batch.labels.length, loss, correct, gradients, movingStatistics, computeMs: performance.now() - started };
  }

  dispose(): void {
    this.model.dispose();
  }
}

// Gradients from remote workers: splits each global batch across the active workers, sends each
// its part, checks and collects what comes back, and combines it. A worker that leaves, stalls
// past the step deadline or sends something unusable loses its part of that step: the step
// finishes with the others, reweighted by their example counts, and nothing of the bad part is
// applied. Weights go out once per step, encoded once for all workers.
import { splitBatch } from '../data/batching.js';
import type { Logger } from '../log/logger.js';
import {
  checkTensors,
  encodeMessage,
  findFrozenTensor,
  findNonFinite,
  frozenVariables,
  mapFromTensors,
  tensorsFromMap,
  type GradientsMessage,
} from '../protocol/index.js';
import { combineContributions, type StepContribution } from '../training/aggregate.js';
import { StepInterruptedError, type GradientSource, type StepOutcome, type StepRequest } from '../training/source.js';
import type { ContributionChecks } from './contributionChecks.js';
import type { WorkerConnection } from './workerConnection.js';
import type { WorkerPool } from './workerPool.js';

export type NonFinitePolicy = 'skip' | 'stop';
export const NON_FINITE_POLICIES: readonly NonFinitePolicy[] = ['skip', 'stop'];

export interface RemoteSourceOptions {
  pool: WorkerPool;
  shapes: ReadonlyMap<string, readonly number[]>;
  trainableNames: readonly string[];
  movingStatisticNames: readonly string[];
  log: Logger;
  stepTimeoutMs: number;
  /** How long to wait for a worker when none is left. */
  rejoinTimeoutMs: number;
  nonFinitePolicy: NonFinitePolicy;
  /** The current master weights version; gradients computed on another version are refused. */
  weightsVersion: () => number;
  /** Aborted when the run is asked to stop: a step that cannot finish is given up instead of retried. */
  stop?: AbortSignal;
  /** Numeric checks (claims, gradient norm bound, batch-norm statistics) before a part is averaged in. */
  numbers?: ContributionChecks;
}

export class RunStoppedError extends Error {}

interface PartResult {
  worker: WorkerConnection;
  message: GradientsMessage;
  roundTripMs: number;
  frameBytes: number;
}

export class RemoteGradientSource implements GradientSource {
  private readonly gradientShapes: Map<string, readonly number[]>;
  private readonly statisticShapes: Map<string, readonly number[]>;
  /** Variables no gradients message may carry (fine-tuning); named in the refusal. */
  private readonly frozen: Set<string>;
  private fatal?: Error;

  constructor(private readonly o: RemoteSourceOptions) {
    this.gradientShapes = new Map(o.trainableNames.map((n) => [n, o.shapes.get(n)!]));
    this.statisticShapes = new Map(o.movingStatisticNames.map((n) => [n, o.shapes.get(n)!]));
    this.frozen = frozenVariables(o.shapes.keys(), { trainable: o.trainableNames, statistics: o.movingStatisticNames });
  }

  /** Checks one gradients message against the step it answers; called by the pool. */
  receiveGradients(worker: WorkerConnection, message: GradientsMessage, receivedAt: number, frameBytes: number): void {
    const pending = worker.pending;
    const refuse = (why: string) => {
      this.o.log.warn(`refused gradients from worker ${worker.id} for step ${message.step}: ${why}`);
      worker.send({ type: 'error', code: 'GRADIENTS_REFUSED', message: why });
    };
    if (!pending || pending.step !== message.step) {
      const late = message.step <= worker.abandonedStep;
      refuse(
        late
          ? `late: step ${message.step} was finished without this worker`
          : pending
            ? `the step in flight is ${pending.step}`
            : 'no step is in flight for this worker (late or repeated)',
      );
      return;
    }
    worker.pending = undefined;
    const fail = (why: string) => {
      refuse(why);
      pending.reject(new Error(why));
    };
    if (message.weightsVersion !== this.o.weightsVersion()) return fail(`computed on weights version ${message.weightsVersion}, current is ${this.o.weightsVersion()}`);
    if (message.exampleCount !== pending.exampleCount) return fail(`${message.exampleCount} examples, ${pending.exampleCount} were sent`);
    const problem =
      findFrozenTensor(message.gradients, this.frozen, 'gradients') ??
      findFrozenTensor(message.bnStats, this.frozen, 'bnStats') ??
      checkTensors(message.gradients, this.gradientShapes) ??
      checkTensors(message.bnStats, this.statisticShapes);
    if (problem) return fail(`${problem.code}: ${problem.message}`);
    const nonFinite = findNonFinite(message.gradients) ?? findNonFinite(message.bnStats) ?? (Number.isFinite(message.loss) ? null : 'loss');
    if (nonFinite) {
      const why = `NaN or Infinity in ${nonFinite}`;
      if (this.o.nonFinitePolicy === 'stop') this.fatal = new RunStoppedError(`worker ${worker.id} sent ${why} at step ${message.step}; stopping (--on-nan stop)`);
      return fail(why);
    }
    const numbers = this.o.numbers?.admit({ ...message, gradients: mapFromTensors(message.gradients), movingStatistics: mapFromTensors(message.bnStats) });
    if (numbers) return fail(numbers);
    worker.claims = { loss: message.loss, accuracy: message.correct / message.exampleCount };
    pending.resolve(message, receivedAt, frameBytes);
  }

  async computeStep(request: StepRequest): Promise<StepOutcome> {
    for (;;) {
      if (this.o.stop?.aborted) throw new StepInterruptedError(`step ${request.globalStep} given up: the run was asked to stop`);
      const workers = this.o.pool.active();
      if (workers.length === 0) {
        this.o.log.warn(`no worker left; waiting up to ${Math.round(this.o.rejoinTimeoutMs / 1000)} s for one to join`);
        await this.o.pool.waitForWorkers(1, this.o.rejoinTimeoutMs, this.o.stop);
        continue;
      }
      const parts = splitBatch(request.indices, workers.length);
      const nextParts = request.next ? splitBatch(request.next.indices, workers.length) : undefined;
      const sentAt = performance.now();
      const settled = await Promise.allSettled(
        workers.map((w, i) => this.requestPart(w, request, parts[i], nextParts?.[i], request.next?.augmentSeed)),
      );
      if (this.fatal) throw this.fatal;
      const results = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
      settled.forEach((s, i) => {
        if (s.status === 'rejected') this.o.log.warn(`step ${request.globalStep}: dropped worker ${workers[i].id}'s ${parts[i].length} examples (${(s.reason as Error).message})`);
      });
      if (results.length === 0) {
        this.o.log.warn(`step ${request.globalStep}: no usable gradients; retrying the step`);
        continue;
      }
      return this.combine(results, sentAt, workers.length);
    }
  }

  async publishWeights(weights: ReadonlyMap<string, Float32Array>, version: number, changed: readonly string[]) {
    const started = performance.now();
    const bytes = encodeMessage({
      type: 'weights',
      weightsVersion: version,
      step: version,
      tensors: tensorsFromMap(weights, this.o.shapes, changed),
      full: false,
    });
    let sent = 0;
    for (const worker of this.o.pool.active()) {
      sent += worker.sendEncoded(bytes);
      worker.weightsVersion = version;
    }
    return { bytes: sent, ms: performance.now() - started };
  }

  private requestPart(worker: WorkerConnection, request: StepRequest, indices: Int32Array, nextIndices?: Int32Array, nextAugmentSeed?: number): Promise<PartResult> {
    return new Promise((resolve, reject) => {
      const sentAt = performance.now();
      const timer = setTimeout(() => {
        if (worker.pending?.step !== request.globalStep) return;
        worker.pending = undefined;
        worker.state = 'idle';
        reject(new Error(`no gradients within ${Math.round(this.o.stepTimeoutMs / 1000)} s`));
      }, this.o.stepTimeoutMs);
      worker.state = 'computing';
      worker.pending = {
        step: request.globalStep,
        exampleCount: indices.length,
        sentAt,
        resolve: (message, receivedAt, frameBytes) => {
          clearTimeout(timer);
          worker.state = 'idle';
          worker.stepsDone += 1;
          worker.lastStepMs = receivedAt - sentAt;
          worker.lastStepExamples = indices.length;
          resolve({ worker, message, roundTripMs: receivedAt - sentAt, frameBytes });
        },
        reject: (reason) => {
          clearTimeout(timer);
          if (worker.state === 'computing') worker.state = 'idle';
          reject(reason);
        },
      };
      worker.send({
        type: 'step',
        step: request.globalStep,
        epoch: request.epoch,
        weightsVersion: request.weightsVersion,
        indices,
        nextIndices,
        augmentSeed: request.augmentSeed,
        nextAugmentSeed,
      });
    });
  }

  private combine(results: PartResult[], sentAt: number, workerCount: number): StepOutcome {
    const started = performance.now();
    const contributions: StepContribution[] = results.map(({ message }) => ({
      count: message.exampleCount,
      loss: message.loss,
      correct: message.correct,
      gradients: mapFromTensors(message.gradients),
      movingStatistics: mapFromTensors(message.bnStats),
    }));
    const contribution = combineContributions(contributions);
    const mean = (f: (r: PartResult) => number) => results.reduce((s, r) => s + f(r), 0) / results.length;
    const arrivals = results.map((r) => r.roundTripMs);
    return {
      contribution,
      timings: {
        computeMs: mean((r) => r.message.timings.computeMs),
        encodeMs: mean((r) => r.message.timings.encodeMs),
        transferMs: mean((r) => r.roundTripMs - r.message.timings.computeMs - r.message.timings.encodeMs),
        waitForSlowestMs: Math.max(...arrivals) - Math.min(...arrivals),
        aggregateMs: performance.now() - started,
      },
      bytes: results.reduce((sum, r) => sum + r.frameBytes, 0),
      workers: workerCount,
    };
  }
}

// Gradients from remote workers: splits each global batch across the active workers, sends each
// its part, checks and collects what comes back, and combines it. A worker that leaves, stalls
// past the step deadline or sends something unusable loses its part of that step: the step
// finishes with the others, reweighted by their example counts, and nothing of the bad part is
// applied. Weights go out once per step, encoded once for all workers.
import { splitBatch } from '../data/batching.js';
import type { Logger } from '../log/logger.js';
import {
  TensorContract,
  encodeMessage,
  mapFromTensors,
  tensorsFromMap,
  type GradientsMessage,
  variableDtypes,
  type DtypeOfVariable,
  type WireDtype,
} from '../protocol/index.js';
import { combineContributions, type StepContribution } from '../training/optimizer/aggregate.js';
import { StepInterruptedError, type GradientSource, type StepOutcome, type StepRequest } from '../training/loop/source.js';
import type { ContributionChecks } from './contributionChecks.js';
import { RunStoppedError } from './errors.js';
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
  /** Element type of the gradients expected and of the weights sent (the welcome's). */
  wireDtype: WireDtype;
}

interface PartResult {
  worker: WorkerConnection;
  message: GradientsMessage;
  roundTripMs: number;
  frameBytes: number;
}

export class RemoteGradientSource implements GradientSource {
  /** What a gradients message must carry: names, shapes, nothing frozen, finite values. */
  private readonly tensorContract: TensorContract;
  private readonly dtypeOf: DtypeOfVariable;
  private fatal?: Error;

  constructor(private readonly o: RemoteSourceOptions) {
    this.tensorContract = new TensorContract(o.shapes, { trainable: o.trainableNames, statistics: o.movingStatisticNames }, o.wireDtype);
    this.dtypeOf = variableDtypes(o.wireDtype, o.movingStatisticNames);
    o.pool.on('gradients', (worker, message, receivedAt, bytes) => this.receiveGradients(worker, message, receivedAt, bytes));
  }

  /** Checks one gradients message against the step it answers: accepted, or refused and that part lost. */
  private receiveGradients(worker: WorkerConnection, message: GradientsMessage, receivedAt: number, frameBytes: number): void {
    const owed = worker.life.owed;
    const refuse = (why: string) => {
      this.o.log.warn(`refused gradients from worker ${worker.id} for step ${message.step}: ${why}`);
      worker.send({ type: 'error', code: 'GRADIENTS_REFUSED', message: why });
    };
    if (!owed || owed.step !== message.step) {
      // A late frame is an honest worker's bad luck, not a refusal that counts towards eviction.
      if (message.step <= worker.life.abandonedStep) return refuse(`late: step ${message.step} was finished without this worker`);
      const why = owed ? `the step in flight is ${owed.step}` : 'no step is in flight for this worker (repeated or invented)';
      refuse(why);
      worker.life.refused(why);
      return;
    }
    const problem = this.problemWith(worker, message, owed.exampleCount);
    if (problem) {
      refuse(problem);
      worker.life.refused(problem);
      return;
    }
    // Last, since a part admitted here joins the gradient-norm history.
    const numbers = this.o.numbers?.admit({ ...message, gradients: mapFromTensors(message.gradients), movingStatistics: mapFromTensors(message.bnStats) });
    if (numbers) {
      refuse(numbers);
      worker.life.refused(numbers);
      return;
    }
    worker.claims = { loss: message.loss, accuracy: message.correct / message.exampleCount };
    worker.life.accepted({ message, receivedAt, frameBytes });
  }

  /** Why a gradients message for the owed step cannot be used, or undefined when it can. */
  private problemWith(worker: WorkerConnection, message: GradientsMessage, exampleCount: number): string | undefined {
    if (message.workerId !== worker.id) return `it names worker '${message.workerId}', but came on the connection of worker '${worker.id}'`;
    if (message.weightsVersion !== this.o.weightsVersion()) return `computed on weights version ${message.weightsVersion}, current is ${this.o.weightsVersion()}`;
    if (message.exampleCount !== exampleCount) return `${message.exampleCount} examples, ${exampleCount} were sent`;
    const problem = this.tensorContract.checkGradients(message.gradients, message.bnStats);
    if (problem) {
      if (problem.code === 'NON_FINITE' && this.o.nonFinitePolicy === 'stop') {
        this.fatal = new RunStoppedError(`worker ${worker.id} sent ${problem.message} at step ${message.step}; stopping (--on-nan stop)`);
      }
      return problem.code === 'NON_FINITE' ? problem.message : `${problem.code}: ${problem.message}`;
    }
    if (!Number.isFinite(message.loss)) {
      if (this.o.nonFinitePolicy === 'stop') this.fatal = new RunStoppedError(`worker ${worker.id} sent NaN or Infinity in loss at step ${message.step}; stopping (--on-nan stop)`);
      return 'NaN or Infinity in loss';
    }
    return undefined;
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
      tensors: tensorsFromMap(weights, this.o.shapes, changed, this.dtypeOf),
      full: false,
    });
    let sent = 0;
    for (const worker of this.o.pool.active()) {
      sent += worker.sendEncoded(bytes);
      worker.life.sentWeights(version);
    }
    return { bytes: sent, ms: performance.now() - started };
  }

  private async requestPart(worker: WorkerConnection, request: StepRequest, indices: Int32Array, nextIndices?: Int32Array, nextAugmentSeed?: number): Promise<PartResult> {
    const sentAt = performance.now();
    const accepted = worker.life.assigned(request.globalStep, indices.length);
    const timer = setTimeout(() => worker.life.timedOut(request.globalStep, `sent no gradients within ${Math.round(this.o.stepTimeoutMs / 1000)} s`), this.o.stepTimeoutMs);
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
    try {
      const { message, receivedAt, frameBytes } = await accepted;
      worker.recordStep(receivedAt - sentAt, indices.length);
      return { worker, message, roundTripMs: receivedAt - sentAt, frameBytes };
    } finally {
      clearTimeout(timer);
    }
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
        compute: mean((r) => r.message.timings.computeMs),
        encode: mean((r) => r.message.timings.encodeMs),
        transfer: mean((r) => r.roundTripMs - r.message.timings.computeMs - r.message.timings.encodeMs),
        wait_for_slowest: Math.max(...arrivals) - Math.min(...arrivals),
        aggregate: performance.now() - started,
      },
      bytes: results.reduce((sum, r) => sum + r.frameBytes, 0),
      workers: workerCount,
    };
  }
}

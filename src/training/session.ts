// The training loop shared by the standalone worker and the coordinator. It reads top to
// bottom: for each step, ask the gradient source for the global batch's combined contribution,
// take one Adam step on the master weights, publish them; evaluate at epoch ends; checkpoint
// every K steps, on request and at the end. Where gradients come from is the source's business.
import type * as tf from '@tensorflow/tfjs';
import { epochPermutation, globalBatchIndices, stepsPerEpoch } from '../data/batching.js';
import { epochSeed, mixSeeds } from '../data/rng.js';
import type { Split } from '../data/types.js';
import type { Logger } from '../log/logger.js';
import type { EvaluationReport } from '../metrics/classification.js';
import type { TrainConfig } from './config.js';
import { evaluateModel } from './evaluate.js';
import type { MasterState } from './masterState.js';
import { ProgressReporter } from './progress.js';
import { saveWithRetry } from '../checkpoint/retryingSave.js';
import { RunLog } from './runLog.js';
import { learningRateAt } from './schedule.js';
import { StepInterruptedError, type GradientSource, type StepRequest, type StepTimings } from './source.js';
import { StepStatistics } from './stepStatistics.js';

export interface SessionOptions {
  config: TrainConfig;
  runDir: string;
  train: Split;
  test: Split;
  numClasses: number;
  source: GradientSource;
  state: MasterState;
  /** Copies the master weights into the local model used for evaluation and checkpoints. */
  syncLocalModel: () => tf.LayersModel;
  saveCheckpoint: (state: MasterState) => Promise<string>;
  log: Logger;
  progress: ProgressReporter;
  /** Sees every step's record (the same as metrics.jsonl's), e.g. for a live status page. */
  onStep?: (record: StepRecord) => void;
  /** Aborted when the process is asked to stop: the loop checkpoints and returns early. */
  stop?: AbortSignal;
  /** How long a checkpoint that cannot be written is retried before the run fails (ms). */
  checkpointRetryMs?: number;
}

export interface StepRecord {
  type: 'step';
  step: number;
  total_steps: number;
  epoch: number;
  loss: number;
  accuracy: number;
  lr: number;
  images_per_s: number;
  bytes: number;
  workers: number;
  /** Examples whose gradients were applied: the global batch less the parts of dropped workers. */
  examples?: number;
  timings: StepTimings;
}

export interface SessionResult {
  steps: number;
  epochs: number;
  imagesPerSecond: number;
  finalLoss: number;
  trainAccuracy: number;
  evaluation?: EvaluationReport;
  checkpoint?: string;
  bytesPerStep: number;
  timings: StepTimings;
  interrupted: boolean;
  wallSeconds: number;
}

/** Seed of the random shifts of one epoch: the same example gets the same shift on any worker. */
export function augmentSeedFor(seed: number, epoch: number): number {
  return mixSeeds(epochSeed(seed, epoch), 0x5eed);
}

export async function runSession(o: SessionOptions): Promise<SessionResult> {
  const { config, state, source, log } = o;
  const started = performance.now();
  const perEpoch = stepsPerEpoch(o.train.count, config.batchSize);
  const plannedSteps = config.epochs * perEpoch;
  const totalSteps = config.maxSteps > 0 ? Math.min(config.maxSteps, plannedSteps) : plannedSteps;
  /** Epochs this run touches, for the log (`epoch 1/2`, not `1/10`, when --max-steps stops it early). */
  const epochsShown = Math.ceil(totalSteps / perEpoch);
  // The schedule spans the planned epochs; --max-steps only stops early, so a stopped and resumed
  // run follows the same learning-rate curve as an uninterrupted one.
  const schedule = { kind: config.schedule, baseRate: config.learningRate, totalSteps: plannedSteps, warmupSteps: config.warmupSteps };
  const runLog = new RunLog(o.runDir, { warn: (m) => log.warn(m), info: (m) => log.info(m) });
  const saveCheckpoint = () =>
    saveWithRetry(() => o.saveCheckpoint(state), { runDir: o.runDir, step: state.position.globalStep, retryForMs: o.checkpointRetryMs, stop: o.stop, warn: (m) => log.warn(m), info: (m) => log.info(m) });
  const stats = new StepStatistics();
  let evaluation: EvaluationReport | undefined;
  let checkpoint: string | undefined;
  let interrupted = false;
  log.info(`training ${totalSteps} steps (${perEpoch} per epoch, global batch ${config.batchSize}) from step ${state.position.globalStep}`);

  const batchAt = (epoch: number, perm: Int32Array, step: number) => ({
    indices: globalBatchIndices(perm, step, config.batchSize),
    augmentSeed: augmentSeedFor(config.seed, epoch),
  });

  outer: for (let epoch = state.position.epoch; epoch < config.epochs; epoch++) {
    const perm = epochPermutation(o.train.count, config.seed, epoch);
    const nextPerm = epoch + 1 < config.epochs ? epochPermutation(o.train.count, config.seed, epoch + 1) : undefined;
    stats.startEpoch();
    for (let s = state.position.stepInEpoch; s < perEpoch; s++) {
      if (state.position.globalStep >= totalSteps) break outer;
      // A step computed in this process never yields by itself: without this, a signal would
      // be handled only after the last step.
      await yieldToEventLoop();
      if (o.stop?.aborted) {
        interrupted = true;
        break outer;
      }
      const nextStep = s + 1 < perEpoch ? batchAt(epoch, perm, s + 1) : nextPerm ? batchAt(epoch + 1, nextPerm, 0) : undefined;
      const request: StepRequest = {
        epoch,
        stepInEpoch: s,
        globalStep: state.position.globalStep,
        ...batchAt(epoch, perm, s),
        next: state.position.globalStep + 1 < totalSteps ? nextStep : undefined,
        weightsVersion: state.weightsVersion,
      };
      const stepStarted = performance.now();
      let outcome;
      try {
        outcome = await source.computeStep(request);
      } catch (error) {
        if (!(error instanceof StepInterruptedError)) throw error;
        // Nothing of this step was applied: the checkpoint below holds the last finished one.
        log.warn(error.message);
        interrupted = true;
        break outer;
      }
      const applyStarted = performance.now();
      const learningRate = learningRateAt(state.position.globalStep, schedule);
      const changed = state.apply(outcome.contribution, learningRate);
      const applyMs = performance.now() - applyStarted;
      state.position = { epoch, stepInEpoch: s + 1, globalStep: state.position.globalStep + 1 };
      const published = await source.publishWeights(state.weights, state.weightsVersion, changed);
      const timings: StepTimings = { ...outcome.timings, applyMs, broadcastMs: published.ms, totalMs: performance.now() - stepStarted };
      stats.record(outcome.contribution, timings, outcome.bytes + published.bytes);

      const snapshot = stats.snapshot();
      o.progress.update({
        epoch,
        epochs: epochsShown,
        stepInEpoch: s + 1,
        stepsInEpoch: perEpoch,
        imagesPerSecond: snapshot.imagesPerSecond,
        loss: snapshot.epochLoss,
        accuracy: snapshot.epochAccuracy,
        etaSeconds: snapshot.imagesPerSecond > 0 ? ((totalSteps - state.position.globalStep) * config.batchSize) / snapshot.imagesPerSecond : Infinity,
        last: state.position.globalStep === totalSteps,
      });
      const record: StepRecord = {
        type: 'step',
        step: state.position.globalStep,
        total_steps: totalSteps,
        epoch,
        loss: outcome.contribution.loss,
        accuracy: outcome.contribution.correct / outcome.contribution.count,
        lr: learningRate,
        images_per_s: snapshot.imagesPerSecond,
        bytes: outcome.bytes + published.bytes,
        workers: outcome.workers,
        examples: outcome.contribution.count,
        timings,
      };
      runLog.write({ ...record });
      log.debug(
        `step ${record.step}/${totalSteps}: loss ${record.loss.toFixed(4)}, acc ${(100 * record.accuracy).toFixed(1)}%, lr ${record.lr.toPrecision(3)}, ` +
          `${record.workers} worker(s), ${record.bytes} bytes, ${(timings.totalMs ?? 0).toFixed(1)} ms`,
      );
      o.onStep?.(record);
      if (state.position.globalStep % config.checkpointEvery === 0) {
        const saveStarted = performance.now();
        checkpoint = await saveCheckpoint();
        stats.exclude(performance.now() - saveStarted);
      }
    }
    o.progress.endLine();
    if (state.position.stepInEpoch === perEpoch) {
      const epochStats = stats.snapshot();
      const evalStarted = performance.now();
      if (config.evaluate) evaluation = evaluate(o);
      stats.exclude(performance.now() - evalStarted);
      log.info(
        `epoch ${epoch + 1}/${epochsShown} done: loss ${epochStats.epochLoss.toFixed(4)}, train acc ${(100 * epochStats.epochAccuracy).toFixed(2)}%` +
          (evaluation ? `, test acc ${(100 * evaluation.accuracy).toFixed(2)}%` : '') +
          `, ${epochStats.imagesPerSecond.toFixed(0)} img/s`,
      );
      runLog.write({ type: 'epoch', epoch, loss: epochStats.epochLoss, train_accuracy: epochStats.epochAccuracy, test_accuracy: evaluation?.accuracy });
      if (epoch + 1 < config.epochs) state.position = { epoch: epoch + 1, stepInEpoch: 0, globalStep: state.position.globalStep };
    }
  }
  o.progress.endLine();
  const finished = !interrupted;
  if (finished && config.evaluate && (!evaluation || state.position.stepInEpoch !== perEpoch)) evaluation = evaluate(o);
  checkpoint = await saveCheckpoint();
  const summary = stats.summary();
  const result: SessionResult = {
    steps: state.position.globalStep,
    epochs: state.position.globalStep / perEpoch,
    imagesPerSecond: summary.imagesPerSecond,
    finalLoss: summary.lastLoss,
    trainAccuracy: summary.lastAccuracy,
    evaluation: finished ? evaluation : undefined,
    checkpoint,
    bytesPerStep: summary.bytesPerStep,
    timings: summary.meanTimings,
    interrupted,
    wallSeconds: (performance.now() - started) / 1000,
  };
  runLog.write({ type: 'summary', ...result, evaluation: undefined, test_accuracy: result.evaluation?.accuracy });
  return result;
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function evaluate(o: SessionOptions): EvaluationReport {
  const model = o.syncLocalModel();
  return evaluateModel(model, o.test, o.numClasses);
}

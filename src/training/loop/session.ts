// The training loop shared by the standalone worker and the coordinator. It reads top to
// bottom: for each step, ask the gradient source for the global batch's combined contribution,
// take one Adam step on the master weights, publish them; evaluate at epoch ends; checkpoint
// every K steps, on request and at the end. Where gradients come from is the source's business.
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { saveWithRetry } from '../../checkpoint/retryingSave.js';
import type { Split } from '../../data/types.js';
import type { Logger } from '../../log/logger.js';
import type { EvaluationReport } from '../../metrics/classification.js';
import type { TrainConfig } from '../setup/config.js';
import { evaluateModel, evaluateWithLoss } from '../../inference/evaluate.js';
import { BEST_CHECKPOINT } from '../../checkpoint/checkpoint.js';
import { checkpointsRoot } from '../../checkpoint/runDir.js';
import { afterValidation, patienceRunOut, selectionMetric, type SelectionState, type ValidationScores } from './modelSelection.js';
import type { MasterState } from '../optimizer/masterState.js';
import type { EpochRecord, StepRecord } from '../../schemas/metricsRecord.js';
import { EpochBatches, planRun, type RunPlan } from './plan.js';
import type { ProgressReporter } from './progress.js';
import { SessionReport } from './sessionReport.js';
import { StepInterruptedError, type GradientSource, type StepTimings } from './source.js';
import type { StepStatistics } from './stepStatistics.js';
import { trainStep } from './trainStep.js';
import { learningRateFactors } from '../setup/finetune.js';

export type { StepRecord } from '../../schemas/metricsRecord.js';
export { augmentSeedFor } from './plan.js';

export interface SessionOptions {
  config: TrainConfig;
  runDir: string;
  train: Split;
  test: Split;
  /** The dataset's name for the start line (`mnist`, `fashion-mnist[5,6]`). */
  datasetName: string;
  numClasses: number;
  source: GradientSource;
  state: MasterState;
  /** Copies the master weights into the local model used for evaluation and checkpoints. */
  syncLocalModel: () => tf.LayersModel;
  saveCheckpoint: (state: MasterState, selection?: SelectionState, as?: typeof BEST_CHECKPOINT) => Promise<string>;
  /** With --val-split: the training examples to draw batches from (indices into `train`), and the held-out split. */
  trainIndices?: Int32Array;
  validation?: Split;
  /** Model selection as a resumed checkpoint left it. */
  selection?: SelectionState;
  log: Logger;
  progress: ProgressReporter;
  /** Who computes (`2 workers on wasm`) and the dashboard, for the start line. */
  where: string;
  dashboard?: string;
  /** Sees every step's record (the same as metrics.jsonl's), e.g. for a live status page. */
  onStep?: (record: StepRecord) => void;
  /** Sees every epoch's record (as metrics.jsonl's). */
  onEpoch?: (record: EpochRecord) => void;
  /** Aborted when the process is asked to stop: the loop checkpoints and returns early. */
  stop?: AbortSignal;
  /** How long a checkpoint that cannot be written is retried before the run fails (ms). */
  checkpointRetryMs?: number;
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
  /** The last epoch's scores on the validation split. */
  validation?: ValidationScores;
  /** Model selection at the end: the best epoch by --save-best's metric (or val_loss). */
  selection?: SelectionState;
  /** The checkpoint of the best epoch (--save-best). */
  bestCheckpoint?: string;
  /** Why the run ended before its planned steps (--early-stop). */
  stoppedEarly?: string;
}

export async function runSession(options: SessionOptions): Promise<SessionResult> {
  const { config, state, source, log } = options;
  const started = performance.now();
  const trainCount = options.trainIndices?.length ?? options.train.count;
  const plan = planRun(config, trainCount);
  const start = { where: options.where, dashboard: options.dashboard, data: { name: options.datasetName, train: trainCount, test: config.evaluate ? options.test.count : 0 } };
  const report = new SessionReport({ runDir: options.runDir, batchSize: config.batchSize, config, log, progress: options.progress, onStep: options.onStep, onEpoch: options.onEpoch, start }, plan);
  let evaluation: EvaluationReport | undefined;
  let checkpoint: string | undefined;
  let interrupted = false;
  let selection = options.selection;
  let bestCheckpoint: string | undefined;
  let validation: ValidationScores | undefined;
  let stoppedEarly = patienceRunOut(selection, config.earlyStop ?? 0) ? earlyStopReason(selection!, config.earlyStop!) : undefined;
  /** Whether the test set was evaluated after the last step (an epoch's end), so the end need not do it again. */
  let evaluatedSinceStep = false;
  report.started(state.position.globalStep);
  const applyOptions = { maxGradNorm: config.maxGradNorm, rateFactors: learningRateFactors(config, state.trainableNames) };
  const saveWith = (as?: typeof BEST_CHECKPOINT) => () =>
    saveWithRetry(() => options.saveCheckpoint(state, selection, as), { runDir: options.runDir, step: state.position.globalStep, retryForMs: options.checkpointRetryMs, stop: options.stop, warn: (m) => log.warn(m), info: (m) => log.info(m) });
  const saveCheckpoint = saveWith();

  outer: for (let epoch = state.position.epoch; epoch < config.epochs && !stoppedEarly; epoch++) {
    const batches = new EpochBatches(config, options.train.count, epoch, plan.perEpoch, options.trainIndices);
    report.epochStarted();
    for (let stepInEpoch = state.position.stepInEpoch; stepInEpoch < plan.perEpoch; stepInEpoch++) {
      if (state.position.globalStep >= plan.totalSteps) break outer;
      // A step computed in this process never yields by itself: without this, a signal would
      // be handled only after the last step.
      await yieldToEventLoop();
      if (options.stop?.aborted) {
        interrupted = true;
        break outer;
      }
      const request = batches.request(stepInEpoch, state.position, plan.totalSteps, state.weightsVersion);
      const step = await trainStep(source, state, request, plan.schedule, applyOptions).catch(interruptionIn(log));
      if (!step) {
        interrupted = true;
        break outer;
      }
      evaluatedSinceStep = false;
      report.stepFinished(epoch, step, state.position);
      if (state.position.globalStep % config.checkpointEvery === 0) checkpoint = await report.untimed(saveCheckpoint);
    }
    report.barEnded();
    if (state.position.stepInEpoch === plan.perEpoch) {
      if (config.evaluate) evaluation = await report.untimed(() => evaluate(options));
      evaluatedSinceStep = true;
      if (options.validation) {
        validation = await report.untimed(() => validate(options));
        const selected = afterValidation(selection, selectionMetric(config), epoch, validation);
        selection = selected.state;
        if (selected.improved && config.saveBest) bestCheckpoint = await report.untimed(saveWith(BEST_CHECKPOINT));
      }
      report.epochFinished(epoch, evaluation, state.position.globalStep, validation);
      if (epoch + 1 < config.epochs) state.position = { epoch: epoch + 1, stepInEpoch: 0, globalStep: state.position.globalStep };
      if (patienceRunOut(selection, config.earlyStop ?? 0)) stoppedEarly = earlyStopReason(selection!, config.earlyStop!);
    }
  }
  report.barEnded();
  if (stoppedEarly) log.info(stoppedEarly);
  const finished = !interrupted;
  if (finished && config.evaluate && (!evaluation || !evaluatedSinceStep)) evaluation = await evaluate(options);
  checkpoint = await saveCheckpoint();
  const result = {
    ...sessionResult(report.stats.summary(), state, plan, { evaluation: finished ? evaluation : undefined, checkpoint, interrupted, started }),
    ...(validation ? { validation } : {}),
    ...(selection ? { selection } : {}),
    ...(config.saveBest && selection ? { bestCheckpoint: bestCheckpoint ?? bestCheckpointDir(options.runDir) } : {}),
    ...(stoppedEarly ? { stoppedEarly } : {}),
  };
  report.finished(result);
  return result;
}

/** A stop during a step ends the loop with nothing of that step applied; the final checkpoint holds the last finished one. */
function interruptionIn(log: Logger) {
  return (error: unknown): undefined => {
    if (!(error instanceof StepInterruptedError)) throw error;
    log.warn(error.message);
    return undefined;
  };
}

function sessionResult(
  summary: ReturnType<StepStatistics['summary']>,
  state: MasterState,
  plan: RunPlan,
  end: { evaluation?: EvaluationReport; checkpoint?: string; interrupted: boolean; started: number },
): SessionResult {
  return {
    steps: state.position.globalStep,
    epochs: state.position.globalStep / plan.perEpoch,
    imagesPerSecond: summary.imagesPerSecond,
    finalLoss: summary.lastLoss,
    trainAccuracy: summary.lastAccuracy,
    evaluation: end.evaluation,
    checkpoint: end.checkpoint,
    bytesPerStep: summary.bytesPerStep,
    timings: summary.meanTimings,
    interrupted: end.interrupted,
    wallSeconds: (performance.now() - end.started) / 1000,
  };
}

function earlyStopReason(selection: SelectionState, patience: number): string {
  return `stopping early (--early-stop ${patience}): ${selection.metric} has not improved for ${selection.epochsSinceBest} epoch(s) since its best, ${selection.best.toFixed(4)} at epoch ${selection.bestEpoch + 1}`;
}

function bestCheckpointDir(runDir: string): string {
  return join(checkpointsRoot(runDir), BEST_CHECKPOINT);
}

async function validate(options: SessionOptions): Promise<ValidationScores> {
  const model = options.syncLocalModel();
  const scores = await evaluateWithLoss(model, options.validation!, options.numClasses);
  return { val_loss: scores.loss, val_accuracy: scores.accuracy };
}

function evaluate(options: SessionOptions): Promise<EvaluationReport> {
  const model = options.syncLocalModel();
  return evaluateModel(model, options.test, options.numClasses);
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

// Everything the training loop tells the outside, behind one set of hooks: the progress bar,
// the records of metrics.jsonl, the log lines, the onStep listener, and the timing figures
// (throughput leaves evaluation and checkpoints out). The loop calls these; none of them
// changes what is trained.
import type { Logger } from '../../log/logger.js';
import type { EvaluationReport } from '../../metrics/classification.js';
import type { EpochRecord, StepRecord, SummaryRecord } from '../../schemas/metricsRecord.js';
import type { TrainingPosition } from '../optimizer/masterState.js';
import type { RunPlan } from './plan.js';
import type { ProgressReporter } from './progress.js';
import { RunLog } from './runLog.js';
import { StepStatistics } from './stepStatistics.js';
import { TensorBoardLog } from './tensorboardLog.js';
import type { SessionResult } from './session.js';
import type { FinishedStep } from './trainStep.js';
import type { ValidationScores } from './modelSelection.js';

export interface ReportTargets {
  runDir: string;
  batchSize: number;
  log: Logger;
  progress: ProgressReporter;
  onStep?: (record: StepRecord) => void;
  onEpoch?: (record: EpochRecord) => void;
  /** The run's settings, written into the TensorBoard events as text. */
  config?: unknown;
}

export class SessionReport {
  readonly stats = new StepStatistics();
  private readonly runLog: RunLog;
  private readonly tensorboard: TensorBoardLog;

  constructor(
    private readonly targets: ReportTargets,
    private readonly plan: RunPlan,
  ) {
    this.runLog = new RunLog(targets.runDir, { warn: (m) => targets.log.warn(m), info: (m) => targets.log.info(m) });
    this.tensorboard = new TensorBoardLog(targets.runDir, (m) => targets.log.warn(m), (m) => targets.log.info(m));
  }

  /** One record, to metrics.jsonl and to the TensorBoard events alike. */
  private write(record: Record<string, unknown> & { type: string }): void {
    this.runLog.write(record);
    this.tensorboard.write(record);
  }

  started(fromStep: number): void {
    const { plan } = this;
    this.tensorboard.started(fromStep, this.targets.config);
    this.targets.log.info(`training ${plan.totalSteps} steps (${plan.perEpoch} per epoch, global batch ${this.targets.batchSize}) from step ${fromStep}`);
  }

  epochStarted(): void {
    this.stats.startEpoch();
  }

  stepFinished(epoch: number, step: FinishedStep, position: TrainingPosition): void {
    const { plan, targets } = this;
    const { contribution } = step.outcome;
    this.stats.record(contribution, step.timings, step.bytes);
    const snapshot = this.stats.snapshot();
    targets.progress.update({
      epoch,
      epochs: plan.epochsShown,
      stepInEpoch: position.stepInEpoch,
      stepsInEpoch: plan.perEpoch,
      imagesPerSecond: snapshot.imagesPerSecond,
      loss: snapshot.epochLoss,
      accuracy: snapshot.epochAccuracy,
      etaSeconds: snapshot.imagesPerSecond > 0 ? ((plan.totalSteps - position.globalStep) * targets.batchSize) / snapshot.imagesPerSecond : Infinity,
      last: position.globalStep === plan.totalSteps,
    });
    const record: StepRecord = {
      type: 'step',
      step: position.globalStep,
      total_steps: plan.totalSteps,
      // Counted from 1 in every record, as the log lines show it.
      epoch: epoch + 1,
      loss: contribution.loss,
      accuracy: contribution.correct / contribution.count,
      lr: step.learningRate,
      images_per_s: snapshot.imagesPerSecond,
      bytes: step.bytes,
      workers: step.outcome.workers,
      examples: contribution.count,
      timings_ms: step.timings,
      ...(step.applied.refused ? { refused: step.applied.refused } : {}),
    };
    // The batch is passed over rather than retried: the same weights would give the same gradients.
    if (step.applied.refused) targets.log.warn(`step ${record.step}: update not applied, the weights and Adam state stay as they were: ${step.applied.refused}`);
    if (step.applied.clipped) targets.log.debug(`step ${record.step}: gradient norm ${step.applied.clipped.norm.toPrecision(4)} clipped to --max-grad-norm`);
    this.write({ ...record });
    targets.log.debug(
      `step ${record.step}/${plan.totalSteps}: loss ${record.loss.toFixed(4)}, acc ${(100 * record.accuracy).toFixed(1)}%, lr ${record.lr.toPrecision(3)}, ` +
        `${record.workers} worker(s), ${record.bytes} bytes, ${(step.timings.total ?? 0).toFixed(1)} ms`,
    );
    targets.onStep?.(record);
  }

  /** Runs work that is not training (evaluation, a checkpoint) with its time left out of the throughput. */
  async untimed<T>(work: () => T | Promise<T>): Promise<T> {
    const started = performance.now();
    const result = await work();
    this.stats.exclude(performance.now() - started);
    return result;
  }

  /** Ends the progress bar's line (after an epoch's steps, and once more at the end of the run). */
  barEnded(): void {
    this.targets.progress.endLine();
  }

  epochFinished(epoch: number, evaluation: EvaluationReport | undefined, validation?: ValidationScores): void {
    const epochStats = this.stats.snapshot();
    this.targets.log.info(
      `epoch ${epoch + 1}/${this.plan.epochsShown} done: loss ${epochStats.epochLoss.toFixed(4)}, train acc ${(100 * epochStats.epochAccuracy).toFixed(2)}%` +
        (validation ? `, val loss ${validation.val_loss.toFixed(4)}, val acc ${(100 * validation.val_accuracy).toFixed(2)}%` : '') +
        (evaluation ? `, test acc ${(100 * evaluation.accuracy).toFixed(2)}%` : '') +
        `, ${epochStats.imagesPerSecond.toFixed(0)} img/s`,
    );
    const record: EpochRecord = { type: 'epoch', epoch: epoch + 1, loss: epochStats.epochLoss, train_accuracy: epochStats.epochAccuracy, ...validation, test_accuracy: evaluation?.accuracy };
    this.write({ ...record });
    this.targets.onEpoch?.(record);
  }

  finished(result: SessionResult): void {
    const record: SummaryRecord = {
      type: 'summary',
      steps: result.steps,
      epochs: result.epochs,
      images_per_s: result.imagesPerSecond,
      final_loss: result.finalLoss,
      train_accuracy: result.trainAccuracy,
      checkpoint: result.checkpoint,
      bytes_per_step: result.bytesPerStep,
      step_timings_ms: result.timings,
      interrupted: result.interrupted,
      wall_s: result.wallSeconds,
      test_accuracy: result.evaluation?.accuracy,
      ...result.validation,
      best_checkpoint: result.bestCheckpoint,
      stopped_early: result.stoppedEarly,
    };
    this.write({ ...record });
  }
}

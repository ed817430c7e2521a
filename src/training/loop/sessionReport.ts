// Everything the training loop tells the outside, behind one set of hooks: the progress bar,
// the records of metrics.jsonl, the log lines, the onStep listener, and the timing figures
// (throughput leaves evaluation and checkpoints out). The loop calls these; none of them
// changes what is trained.
import type { Logger } from '../../log/logger.js';
import type { EvaluationReport } from '../../metrics/classification.js';
import type { EpochRecord, StepRecord, SummaryRecord } from '../../schemas/metricsRecord.js';
import type { TrainingPosition } from '../optimizer/masterState.js';
import type { RunPlan } from './plan.js';
import { formatEpochSummary, type ProgressReporter } from './progress.js';
import { RunLog } from './runLog.js';
import { formatStartLine, type RunStartFacts } from './startLine.js';
import { StepStatistics } from './stepStatistics.js';
import { TensorBoardLog } from './tensorboardLog.js';
import type { SessionResult } from './session.js';
import type { FinishedStep } from './trainStep.js';
import type { ValidationScores } from './modelSelection.js';

export interface ReportTargets {
  runDir: string;
  /** What the start line says about who computes and where to watch (see startLine.ts). */
  start: Pick<RunStartFacts, 'where' | 'data' | 'dashboard'>;
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
  private epochStartedAt = performance.now();

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
    const { plan, targets } = this;
    this.tensorboard.started(fromStep, targets.config);
    targets.log.info(formatStartLine({ plan, batchSize: targets.batchSize, fromStep, runDir: targets.runDir, ...targets.start }));
  }

  epochStarted(): void {
    this.stats.startEpoch();
    this.epochStartedAt = performance.now();
  }

  /** Seconds `steps` more steps take at the current throughput. */
  private secondsFor(steps: number, imagesPerSecond: number): number {
    return imagesPerSecond > 0 ? (steps * this.targets.batchSize) / imagesPerSecond : Infinity;
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
      epochElapsedSeconds: (performance.now() - this.epochStartedAt) / 1000,
      // An epoch that --max-steps cuts short ends at the run's last step.
      epochEtaSeconds: this.secondsFor(Math.min(plan.perEpoch - position.stepInEpoch, plan.totalSteps - position.globalStep), snapshot.imagesPerSecond),
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

  epochFinished(epoch: number, evaluation: EvaluationReport | undefined, globalStep: number, validation?: ValidationScores): void {
    const epochStats = this.stats.snapshot();
    const stepsLeft = this.plan.totalSteps - globalStep;
    const summary = {
      epoch,
      epochs: this.plan.epochsShown,
      loss: epochStats.epochLoss,
      trainAccuracy: epochStats.epochAccuracy,
      testAccuracy: evaluation?.accuracy,
      validation,
      imagesPerSecond: epochStats.imagesPerSecond,
      epochSeconds: (performance.now() - this.epochStartedAt) / 1000,
      runEtaSeconds: stepsLeft > 0 ? this.secondsFor(stepsLeft, epochStats.imagesPerSecond) : undefined,
    };
    // Without a progress display (--progress none) the summary is a log line like any other.
    if (this.targets.progress.shown) this.targets.progress.epochFinished(summary);
    else this.targets.log.info(formatEpochSummary(summary));
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

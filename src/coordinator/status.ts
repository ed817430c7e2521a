// The live picture of a run that /metrics and the dashboard serve: updated by the training
// loop's step and epoch records and read from the worker pool on each request. It keeps a
// bounded history of step records (so a page opened mid-run sees the whole curve), the epoch
// records, the step-time histogram and phase totals Prometheus counts, and tells listeners
// about each new step, epoch and change of phase.
import { EventEmitter } from 'node:events';
import { phaseOfTimingKey, type EpochRecord } from '../schemas/metricsRecord.js';
import type { StepRecord } from '../training/loop/session.js';
import { Histogram } from './histogram.js';
import { StepHistory } from './stepHistory.js';
import type { WireTotals } from './workerConnection.js';
import type { WorkerPool } from './workerPool.js';

export type RunPhase = 'waiting-for-workers' | 'training' | 'finished' | 'failed';

/** Phases after which no step will come. */
export const FINAL_PHASES: readonly RunPhase[] = ['finished', 'failed'];

/** Upper bounds (s) of the step-time histogram: from a fast GPU step to a stalled worker's timeout. */
export const STEP_SECONDS_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/** Steps timed before an ETA is given: the first ones include warm-up. */
const ETA_MIN_TIMED_STEPS = 2;

export interface RunStatusEvents {
  step: [record: StepRecord];
  epoch: [record: EpochRecord];
  phase: [phase: RunPhase];
}

/**
 * Seconds until the last step at the pace seen so far (wall clock, so evaluation and
 * checkpoints count), or undefined before there is a pace to go by.
 */
export function estimateEtaSeconds(stepsLeft: number, timedSteps: number, timedSeconds: number): number | undefined {
  if (stepsLeft <= 0) return 0;
  if (timedSteps < ETA_MIN_TIMED_STEPS || timedSeconds <= 0) return undefined;
  return (stepsLeft * timedSeconds) / timedSteps;
}

export class RunStatus extends EventEmitter<RunStatusEvents> {
  lastStep?: StepRecord;
  readonly startedAt = new Date().toISOString();
  readonly history: StepHistory<StepRecord>;
  readonly epochs: EpochRecord[] = [];
  readonly stepSeconds = new Histogram(STEP_SECONDS_BUCKETS);
  /** Seconds spent in each step phase so far (`compute`, `transfer`, …). */
  readonly phaseSeconds = new Map<string, number>();
  /** The run's last evaluation (also of a run that ends mid-epoch), once it has finished. */
  finalTestAccuracy?: number;
  private pool?: WorkerPool;
  private currentPhase: RunPhase = 'waiting-for-workers';
  /** The first step this process saw and when (ms, performance.now()): the pace is measured from it. */
  private paceFrom?: { step: number; at: number };
  private lastStepAt = 0;

  constructor(
    readonly runId: string,
    readonly expectedWorkers: number,
    historyLimit?: number,
  ) {
    super();
    this.history = new StepHistory(historyLimit);
  }

  get phase(): RunPhase {
    return this.currentPhase;
  }

  set phase(phase: RunPhase) {
    if (phase === this.currentPhase) return;
    this.currentPhase = phase;
    this.emit('phase', phase);
  }

  attach(pool: WorkerPool): void {
    this.pool = pool;
  }

  get wire(): WireTotals {
    return this.pool?.wireTotals ?? { sent: 0, received: 0 };
  }

  recordStep(record: StepRecord): void {
    this.phase = 'training';
    this.lastStep = record;
    this.lastStepAt = performance.now();
    this.paceFrom ??= { step: record.step, at: this.lastStepAt };
    this.history.add(record);
    for (const [key, ms] of Object.entries(record.timings_ms)) {
      if (typeof ms !== 'number') continue;
      const phase = phaseOfTimingKey(key);
      if (phase === 'total') this.stepSeconds.observe(ms / 1000);
      else this.phaseSeconds.set(phase, (this.phaseSeconds.get(phase) ?? 0) + ms / 1000);
    }
    this.emit('step', record);
  }

  recordEpoch(record: EpochRecord): void {
    this.epochs.push(record);
    this.emit('epoch', record);
  }

  etaSeconds(): number | undefined {
    const s = this.lastStep;
    if (!s || !this.paceFrom) return undefined;
    if (FINAL_PHASES.includes(this.phase)) return 0;
    return estimateEtaSeconds(s.total_steps - s.step, s.step - this.paceFrom.step, (this.lastStepAt - this.paceFrom.at) / 1000);
  }

  toJSON() {
    const s = this.lastStep;
    const e = this.epochs[this.epochs.length - 1];
    const eta = this.etaSeconds();
    return {
      run_id: this.runId,
      phase: this.phase,
      started_at: this.startedAt,
      step: s?.step ?? 0,
      total_steps: s?.total_steps,
      epoch: s?.epoch ?? 0,
      images_per_s: s?.images_per_s,
      loss: s?.loss,
      accuracy: s?.accuracy,
      learning_rate: s?.lr,
      bytes_per_step: s?.bytes,
      step_timings_ms: s?.timings_ms,
      test_accuracy: e?.test_accuracy,
      final_test_accuracy: this.finalTestAccuracy,
      val_loss: e?.val_loss,
      val_accuracy: e?.val_accuracy,
      eta_seconds: eta === undefined ? undefined : Math.round(eta),
      epochs: this.epochs,
      expected_workers: this.expectedWorkers,
      pending_handshakes: this.pool?.pendingHandshakes ?? 0,
      workers: this.pool?.all().map((w) => w.describe()) ?? [],
    };
  }
}

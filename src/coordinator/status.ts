// The live picture of a run that /metrics and the dashboard serve: updated by the training
// loop's step records and read from the worker pool on each request. It keeps a bounded
// history of step records (so a page opened mid-run sees the whole curve) and tells
// listeners about each new step and each change of phase.
import { EventEmitter } from 'node:events';
import type { StepRecord } from '../training/loop/session.js';
import { StepHistory } from './stepHistory.js';
import type { WorkerPool } from './workerPool.js';

export type RunPhase = 'waiting-for-workers' | 'training' | 'finished' | 'failed';

/** Phases after which no step will come. */
export const FINAL_PHASES: readonly RunPhase[] = ['finished', 'failed'];

export interface RunStatusEvents {
  step: [record: StepRecord];
  phase: [phase: RunPhase];
}

export class RunStatus extends EventEmitter<RunStatusEvents> {
  lastStep?: StepRecord;
  readonly startedAt = new Date().toISOString();
  readonly history: StepHistory<StepRecord>;
  private pool?: WorkerPool;
  private currentPhase: RunPhase = 'waiting-for-workers';

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

  recordStep(record: StepRecord): void {
    this.phase = 'training';
    this.lastStep = record;
    this.history.add(record);
    this.emit('step', record);
  }

  toJSON() {
    const s = this.lastStep;
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
      step_timings_ms: s?.timings,
      expected_workers: this.expectedWorkers,
      pending_handshakes: this.pool?.pendingHandshakes ?? 0,
      workers: this.pool?.all().map((w) => w.describe()) ?? [],
    };
  }
}

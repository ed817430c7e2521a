// The live picture of a run that /metrics serves: updated by the training loop's step records
// and read from the worker pool on each request.
import type { StepRecord } from '../training/session.js';
import type { WorkerPool } from './workerPool.js';

export type RunPhase = 'waiting-for-workers' | 'training' | 'finished' | 'failed';

export class RunStatus {
  phase: RunPhase = 'waiting-for-workers';
  lastStep?: StepRecord;
  readonly startedAt = new Date().toISOString();
  private pool?: WorkerPool;

  constructor(
    readonly runId: string,
    readonly expectedWorkers: number,
  ) {}

  attach(pool: WorkerPool): void {
    this.pool = pool;
  }

  recordStep(record: StepRecord): void {
    this.phase = 'training';
    this.lastStep = record;
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
      workers: this.pool?.all().map((w) => w.describe()) ?? [],
    };
  }
}

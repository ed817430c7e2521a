// The seam between the training loop and where gradients come from: a local replica
// (standalone) or a pool of remote workers (coordinator). The loop is the same for both.
import type { StepTimings } from '../../schemas/metricsRecord.js';
import type { StepContribution } from '../optimizer/aggregate.js';
import { CodedError } from '../../errors/codedError.js';

export type { StepTimings } from '../../schemas/metricsRecord.js';

export interface StepRequest {
  epoch: number;
  stepInEpoch: number;
  globalStep: number;
  /** The global batch of this step, in order. */
  indices: Int32Array;
  augmentSeed: number;
  /** The next step's global batch, so that replicas can prepare it while they wait. */
  next?: { indices: Int32Array; augmentSeed: number };
  weightsVersion: number;
}

export interface StepOutcome {
  contribution: StepContribution;
  timings: StepTimings;
  /** Bytes on the wire for this step (gradients up plus weights down), 0 when local. */
  bytes: number;
  workers: number;
}

/** Thrown by computeStep when the run was asked to stop before the step could finish. */
export class StepInterruptedError extends CodedError<'STEP_INTERRUPTED'> {
  constructor(message: string) {
    super('STEP_INTERRUPTED', message);
  }
}

export interface GradientSource {
  computeStep(request: StepRequest): Promise<StepOutcome>;
  /** Makes every replica hold these weights before the next step. */
  publishWeights(weights: ReadonlyMap<string, Float32Array>, version: number, changed: readonly string[]): Promise<{ bytes: number; ms: number }>;
}

// One training step, the same for every gradient source: the global batch's combined
// contribution, one Adam step on the master weights, the new weights published.
import type { AppliedStep, ApplyOptions, MasterState } from '../optimizer/masterState.js';
import { learningRateAt, type ScheduleOptions } from './schedule.js';
import type { GradientSource, StepOutcome, StepRequest, StepTimings } from './source.js';

export interface FinishedStep {
  outcome: StepOutcome;
  learningRate: number;
  /** Bytes on the wire for the step: gradients up plus weights down. */
  bytes: number;
  timings: StepTimings;
  /** Whether the update was refused (non-finite) or clipped (--max-grad-norm). */
  applied: Omit<AppliedStep, 'changed'>;
}

/** Runs `request` and advances `state` by one step; throws StepInterruptedError with nothing applied. */
export async function trainStep(
  source: GradientSource,
  state: MasterState,
  request: StepRequest,
  schedule: ScheduleOptions,
  options: ApplyOptions = {},
): Promise<FinishedStep> {
  const stepStarted = performance.now();
  const outcome = await source.computeStep(request);
  const applyStarted = performance.now();
  const learningRate = learningRateAt(state.position.globalStep, schedule);
  const { changed, ...applied } = state.apply(outcome.contribution, learningRate, options);
  const applyMs = performance.now() - applyStarted;
  state.position = { epoch: request.epoch, stepInEpoch: request.stepInEpoch + 1, globalStep: state.position.globalStep + 1 };
  const published = await source.publishWeights(state.weights, state.weightsVersion, changed);
  const timings: StepTimings = { ...outcome.timings, apply: applyMs, broadcast: published.ms, total: performance.now() - stepStarted };
  return { outcome, learningRate, bytes: outcome.bytes + published.bytes, timings, applied };
}

// Batch norm's moving-average momentum for a run that does not set --bn-momentum, chosen from the
// number of steps the run plans.
//
// Inference uses the moving statistics, an exponential average in which the batch of s steps ago
// weighs (1 − μ)·μ^s: its horizon, the steps it effectively averages, is 1/(1 − μ) (100 at
// Keras' 0.99). While the weights still change fast, as in a short run, the statistics of older
// batches describe activations the final model no longer produces; with 0.99, 30 steps evaluated
// at 54% test accuracy against 93% train (86% at 0.5; docs/design.md). So the horizon is made a
// fixed fraction f of the run:
// μ = 1 − 1/(f·T) for T planned steps. The last f·T steps then carry 1 − μ^(fT) ≈ 1 − 1/e = 63% of
// the weight, the last quarter of the run 1 − e^(−1/(4f)) = 92% at f = 0.1. (Until t reaches the
// horizon the layer averages all t batches alike, the warm start of movingAverageDecay: the
// initial 0 and 1 never linger, but a horizon longer than the run averages all of it.)
// Bounds: at least 0.5 (a horizon of 2 steps: the last two batches, since one batch's statistics
// over 128·28·28 values per channel are already precise), at most Keras' 0.99, which every run of
// 1,000 steps or more keeps (the full 15-epoch recipe has 7,035).
import { stepsPerEpoch } from '../../data/batching.js';
import type { TrainConfig } from './config.js';

/** Fraction of the run the moving statistics' horizon spans. */
export const BN_HORIZON_FRACTION = 0.1;
export const BN_MOMENTUM_MIN = 0.5;
/** Keras' default, and what long runs keep. */
export const BN_MOMENTUM_MAX = 0.99;

/** Steps the run goes: its epochs over `trainCount` examples, or --max-steps if that comes first. */
export function plannedSteps(config: Pick<TrainConfig, 'epochs' | 'batchSize' | 'maxSteps'>, trainCount: number): number {
  const planned = config.epochs * stepsPerEpoch(trainCount, config.batchSize);
  return config.maxSteps > 0 ? Math.min(config.maxSteps, planned) : planned;
}

/** μ = clamp(1 − 1/(f·steps), 0.5, 0.99), to 3 decimals so that configs and logs read cleanly. */
export function momentumForSteps(steps: number): number {
  const raw = 1 - 1 / (BN_HORIZON_FRACTION * Math.max(1, steps));
  const clamped = Math.min(BN_MOMENTUM_MAX, Math.max(BN_MOMENTUM_MIN, raw));
  return Math.round(clamped * 1000) / 1000;
}

/**
 * A new run's config with the momentum settled: the chosen one when --bn-momentum was not given
 * (`bnMomentumFromSteps`), the given one otherwise. `chosen` says which, for the log.
 */
export function settleBatchNormMomentum(config: TrainConfig, trainCount: number): { config: TrainConfig; chosen?: { momentum: number; steps: number } } {
  const { bnMomentumFromSteps, ...rest } = config;
  if (!bnMomentumFromSteps) return { config: rest };
  const steps = plannedSteps(config, trainCount);
  const momentum = momentumForSteps(steps);
  return { config: { ...rest, model: { ...rest.model, bnMomentum: momentum } }, chosen: { momentum, steps } };
}

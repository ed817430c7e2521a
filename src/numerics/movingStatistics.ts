// Checks batch-norm moving statistics a worker reports against the run's current ones. A moving
// average moves in a known way: new = old + decay·(batch − old), with the decay the layer uses at
// that step (see movingAverageDecay). So the batch statistics a report implies can be recovered
// and must be possible: a batch variance is never negative (a moving variance cannot shrink
// faster than the decay allows), and a batch mean lies within some standard deviations of the
// running mean. A moving variance must also stay positive: its square root divides every
// activation.
import type { TensorMap } from './vectors.js';

export interface StatisticsBounds {
  /** The batch mean a report implies may lie at most this many standard deviations from the running mean. */
  maxMeanShift: number;
  /** The batch variance a report implies may be at most this many times the running variance. */
  maxVarianceGrowth: number;
}

/**
 * Far above honest runs: DSDC-Net on MNIST moved its moving means by under 0.3 standard
 * deviations and its variances by under 1.7× per step after the first (docs/reliability-numbers.md).
 */
export const DEFAULT_STATISTICS_BOUNDS: StatisticsBounds = { maxMeanShift: 50, maxVarianceGrowth: 1000 };

/** Float32 rounding of `old + decay·(batch − old)`, relative to the old value, with room to spare. */
const ROUNDING_TOLERANCE = 1e-3;

/**
 * The weight of a batch in the moving statistics after `updates` earlier updates: a cumulative
 * average while that is larger than 1 − momentum (the warm start), Keras's momentum after.
 */
export function movingAverageDecay(momentum: number, updates: number): number {
  return Math.max(1 - momentum, 1 / (updates + 1));
}

const MEAN = /moving_mean$/;
const VARIANCE = /moving_variance$/;

export type StatisticKind = 'mean' | 'variance' | 'other';

export function statisticKind(name: string): StatisticKind {
  return MEAN.test(name) ? 'mean' : VARIANCE.test(name) ? 'variance' : 'other';
}

/** The variance that goes with a moving mean, by layer: `…/moving_mean` → `…/moving_variance`. */
export function varianceNameOf(meanName: string): string {
  return meanName.replace(MEAN, 'moving_variance');
}

/** The batch value that moved `old` to `reported` with this decay. */
export function impliedBatchValue(old: number, reported: number, decay: number): number {
  return old + (reported - old) / decay;
}

/**
 * The first problem with `received` as a step's moving statistics, as a sentence naming the
 * tensor, element and values, or null when every value is sane. Without `running` (or for a
 * name it lacks) only finiteness and positive variances are checked.
 */
export function checkMovingStatistics(
  received: TensorMap,
  running: TensorMap,
  decay = 1,
  bounds: StatisticsBounds = DEFAULT_STATISTICS_BOUNDS,
): string | null {
  for (const [name, values] of received) {
    const kind = statisticKind(name);
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i])) return `${name}[${i}] is ${values[i]}`;
      if (kind === 'variance' && !(values[i] > 0)) return `${name}[${i}] is ${values[i]}; a variance must be positive`;
    }
    const current = running.get(name);
    if (!current) continue;
    if (kind === 'variance') {
      for (let i = 0; i < values.length; i++) {
        const batch = impliedBatchValue(current[i], values[i], decay);
        if (batch < -ROUNDING_TOLERANCE * current[i]) {
          return `${name}[${i}] fell from ${current[i].toPrecision(4)} to ${values[i].toPrecision(4)} in one step, faster than a moving average with decay ${decay.toPrecision(3)} can`;
        }
        if (batch > bounds.maxVarianceGrowth * current[i]) {
          return `${name}[${i}] rose from ${current[i].toPrecision(4)} to ${values[i].toPrecision(4)} in one step: a batch variance over ${bounds.maxVarianceGrowth}× the running one`;
        }
      }
    } else if (kind === 'mean') {
      const variance = running.get(varianceNameOf(name));
      const reportedVariance = received.get(varianceNameOf(name));
      for (let i = 0; i < values.length; i++) {
        const oldVariance = variance?.[i] ?? 1;
        const batchVariance = reportedVariance ? impliedBatchValue(oldVariance, reportedVariance[i], decay) : oldVariance;
        const sigma = Math.sqrt(Math.max(oldVariance, batchVariance));
        const shift = Math.abs(impliedBatchValue(current[i], values[i], decay) - current[i]);
        if (!(shift <= bounds.maxMeanShift * sigma)) {
          return `${name}[${i}] moved from ${current[i].toPrecision(4)} to ${values[i].toPrecision(4)} in one step: a batch mean over ${bounds.maxMeanShift} standard deviations (${sigma.toPrecision(3)}) away`;
        }
      }
    }
  }
  return null;
}

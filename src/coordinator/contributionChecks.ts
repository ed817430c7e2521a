// The numeric checks a worker's contribution passes before it is averaged into a step, on top of
// the protocol's shape and finiteness checks: its claims (loss, correct) must be possible, its
// gradient norm within the robust bound, and its batch-norm statistics sane against the run's
// current ones. Each check returns the reason for a refusal; the caller refuses the frame as it
// refuses any other. A refused contribution leaves no trace: its norm does not enter the bound.
import type { Logger } from '../log/logger.js';
import { DEFAULT_NORM_BOUND, formatNorm, GradientNormBound, type NormBoundOptions } from '../numerics/gradientNormBound.js';
import { checkMovingStatistics, DEFAULT_STATISTICS_BOUNDS, movingAverageDecay, type StatisticsBounds } from '../numerics/movingStatistics.js';
import { checkStepClaims } from '../numerics/stepClaims.js';
import { globalNorm, type TensorMap } from '../numerics/vectors.js';
import { referenceGradientNorms } from '../training/setup/referenceNorms.js';
import type { PreparedRun } from '../training/setup/runSetup.js';

export interface ContributionChecksOptions {
  /** The gradient norm bound; null: no bound (finiteness is still checked by the protocol and by Adam). */
  normBound: NormBoundOptions | null;
  statisticsBounds?: StatisticsBounds;
  /** The run's current batch-norm moving statistics, by name (the master weights). */
  runningStatistics: () => TensorMap;
  /** Batch norm's moving-average momentum (Keras terms), for the decay a worker used at a step. */
  bnMomentum: number;
  /** Norms the coordinator measured itself, trusted as the first entries of the bound's window. */
  referenceNorms?: readonly number[];
}

export interface CheckedContribution {
  /** The global step the contribution answers (0-based): batch norm's warm start depends on it. */
  step: number;
  loss: number;
  correct: number;
  exampleCount: number;
  gradients: TensorMap;
  movingStatistics: TensorMap;
}

export class ContributionChecks {
  private readonly bound: GradientNormBound | null;

  constructor(private readonly o: ContributionChecksOptions) {
    this.bound = o.normBound ? new GradientNormBound(o.normBound, o.referenceNorms) : null;
  }

  /**
   * Why this contribution must not be averaged in, or null when it may; the norm of an admitted
   * contribution joins the bound's window. Call it last, when nothing else can refuse the part.
   */
  admit(c: CheckedContribution): string | null {
    const claims = checkStepClaims(c);
    if (claims) return `impossible claim: ${claims}`;
    const decay = movingAverageDecay(this.o.bnMomentum, c.step);
    const statistics = checkMovingStatistics(c.movingStatistics, this.o.runningStatistics(), decay, this.o.statisticsBounds ?? DEFAULT_STATISTICS_BOUNDS);
    if (statistics) return `batch-norm statistic ${statistics}`;
    if (!this.bound) return null;
    const verdict = this.bound.admit(globalNorm(c.gradients));
    return verdict.ok ? null : verdict.reason;
  }

  /** The bound's current limit, for logs; undefined without a bound or during its warm-up. */
  normLimit(): number | undefined {
    return this.bound?.limit();
  }
}

/**
 * The checks of a run: its --grad-norm-bound factor, with reference norms measured here at the
 * current weights (so the bound holds from the first step), against the master's statistics.
 */
export async function contributionChecksFor(run: Pick<PreparedRun, 'config' | 'train' | 'state'>, workers: number, log: Logger): Promise<ContributionChecks> {
  const { config, state } = run;
  const factor = config.gradNormBound ?? DEFAULT_NORM_BOUND.factor;
  const statistics = new Set(state.movingStatisticNames);
  let referenceNorms: number[] = [];
  if (factor > 0) {
    referenceNorms = await referenceGradientNorms(config, run.train, state, Math.max(workers, DEFAULT_NORM_BOUND.warmup));
    log.debug(`gradient norm bound: ${factor} × the median of recent accepted norms; reference norms at step ${state.position.globalStep}: ${referenceNorms.map(formatNorm).join(', ')}`);
  } else {
    log.warn('--grad-norm-bound 0: workers\' gradients are not checked against a norm bound');
  }
  return new ContributionChecks({
    normBound: factor > 0 ? { ...DEFAULT_NORM_BOUND, factor } : null,
    runningStatistics: () => new Map([...state.weights].filter(([name]) => statistics.has(name))),
    bnMomentum: config.model.bnMomentum,
    referenceNorms,
  });
}

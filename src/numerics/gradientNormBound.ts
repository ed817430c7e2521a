// The robust bound a gradient contribution must pass before it is averaged: its global norm may
// not exceed a factor times the median of the norms recently accepted. A median cannot be
// dragged up by a minority of huge contributions, as a mean or a maximum would be, and a window
// of recent norms follows the honest decline of gradient norms as training converges.
// Until enough norms are known (the warm-up) the bound cannot be trusted, so only finiteness is
// checked then; a reference norm the coordinator measured itself counts as known.
import { lowerMedian } from './vectors.js';

export interface NormBoundOptions {
  /** A norm above factor × the median of recent accepted norms is refused. */
  factor: number;
  /** How many recent accepted norms the median is taken over. */
  window: number;
  /** Norms needed before the bound applies. */
  warmup: number;
}

/**
 * Honest per-worker norms of DSDC-Net on MNIST stay within about 3× of their running median
 * (measured in docs/reliability-numbers.md); 20× leaves room for small, noisy worker parts,
 * and is still many orders of magnitude below the gradients that overflow Adam.
 */
export const DEFAULT_NORM_BOUND: NormBoundOptions = { factor: 20, window: 64, warmup: 4 };

export type NormVerdict = { ok: true } | { ok: false; reason: string; limit: number };

export class GradientNormBound {
  private readonly accepted: number[] = [];

  constructor(
    readonly options: NormBoundOptions = DEFAULT_NORM_BOUND,
    referenceNorms: readonly number[] = [],
  ) {
    const { factor, window, warmup } = options;
    if (!(factor > 1) || !Number.isFinite(factor)) throw new RangeError(`norm bound: factor must be a finite number above 1, got ${factor}`);
    if (!Number.isInteger(window) || window < 1) throw new RangeError(`norm bound: window must be a positive integer, got ${window}`);
    if (!Number.isInteger(warmup) || warmup < 1 || warmup > window) throw new RangeError(`norm bound: warmup must be an integer from 1 to the window (${window}), got ${warmup}`);
    for (const norm of referenceNorms) this.record(norm);
  }

  /** The largest norm accepted now, or undefined during the warm-up. */
  limit(): number | undefined {
    if (this.accepted.length < this.options.warmup) return undefined;
    return this.options.factor * this.median();
  }

  median(): number {
    return lowerMedian(this.accepted);
  }

  /** Whether a contribution of this norm may be averaged in; does not record it. */
  check(norm: number): NormVerdict {
    if (!Number.isFinite(norm)) return { ok: false, reason: `gradient norm is ${norm}`, limit: Number.NaN };
    const limit = this.limit();
    if (limit === undefined || norm <= limit) return { ok: true };
    return {
      ok: false,
      limit,
      reason: `gradient norm ${formatNorm(norm)} is above the bound ${formatNorm(limit)} (${this.options.factor} × the median ${formatNorm(this.median())} of the last ${this.accepted.length} accepted)`,
    };
  }

  /** Adds an accepted norm to the window. */
  record(norm: number): void {
    if (!Number.isFinite(norm) || norm < 0) throw new RangeError(`norm bound: cannot record norm ${norm}`);
    this.accepted.push(norm);
    if (this.accepted.length > this.options.window) this.accepted.shift();
  }

  /** check() and, when it passes, record(). */
  admit(norm: number): NormVerdict {
    const verdict = this.check(norm);
    if (verdict.ok) this.record(norm);
    return verdict;
  }
}

export function formatNorm(norm: number): string {
  return Number.isFinite(norm) ? norm.toPrecision(4) : String(norm);
}

// The smoothed training curves of the dashboard and the report: an exponential moving average
// with TensorBoard's bias correction. A plain EMA starting from 0 (or from the first value)
// lags or sits at the first point; dividing by 1 - weight^n, the weight the average has
// actually accumulated, makes its early points the mean of what was seen. A classic script:
// it defines these for the page's other scripts (the dashboard serves it as smoothing.js; the
// report inlines it); tests load it into a VM context.
'use strict';

/** TensorBoard's default smoothing weight. */
const DEFAULT_SMOOTHING = 0.6;

/** Feeds values one at a time; non-finite values pass through and do not disturb the average. */
class DebiasedEma {
  constructor(weight) {
    this.weight = weight;
    this.average = 0;
    this.count = 0;
  }

  next(value) {
    if (!Number.isFinite(value)) return value;
    this.average = this.weight * this.average + (1 - this.weight) * value;
    this.count += 1;
    return this.weight >= 1 ? this.average : this.average / (1 - Math.pow(this.weight, this.count));
  }
}

/** The smoothed series of `values` with weight `weight` (0: none; towards 1: smoother). */
function debiasedEma(values, weight) {
  const ema = new DebiasedEma(weight);
  return values.map((value) => ema.next(value));
}

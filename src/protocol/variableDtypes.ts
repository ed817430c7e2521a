// The element type each variable of a run travels in: the run's wire dtype, except the carried
// batch-norm moving statistics, which always travel as float32. Weights have a float32 master on
// the coordinator that Adam updates; the moving statistics have none: the coordinator adopts the
// workers' averaged reports as they are. Rounded to bfloat16 every step, a moving average that
// moves by 1 % of its distance to the batch value per step (momentum 0.99) would mostly round
// back to where it was and stop following the weights (measured: test accuracy 82.9 % against
// 98.7 %, docs/scaling.md). They are 832 values of DSDC-Net's 36,554 per message.
import { DEFAULT_WIRE_DTYPE, type WireDtype } from './constants.js';

export type DtypeOfVariable = (name: string) => WireDtype;

export function variableDtypes(wireDtype: WireDtype, statistics: Iterable<string>): DtypeOfVariable {
  if (wireDtype === DEFAULT_WIRE_DTYPE) return () => DEFAULT_WIRE_DTYPE;
  const full = new Set(statistics);
  return (name) => (full.has(name) ? DEFAULT_WIRE_DTYPE : wireDtype);
}

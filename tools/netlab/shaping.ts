// What a link's shape is and how tc applies the parts the kernel does itself: bandwidth with
// tbf always, delay, jitter and loss with netem where the kernel has sch_netem. Where it has not,
// the lab puts a userspace delay line (delayline.py) in the host's path instead, and tc only
// limits the rate.
import { NetLabError, tcIn, tryRun } from './commands.js';

export interface LinkShape {
  /** Delay added to each direction of the host's link, in ms (so a round trip to an unshaped host gains 2 × delayMs). */
  delayMs?: number;
  /** Each frame's delay varies uniformly within ± jitterMs (frames keep their order). */
  jitterMs?: number;
  /** Frames dropped at random in each direction, in percent. */
  lossPercent?: number;
  /** Bandwidth of each direction of the host's link, in Mbit/s (tc tbf). */
  rateMbit?: number;
}

export type Impairment = 'netem' | 'delayline';

const TBF_LATENCY = '100ms';
const TBF_MIN_BURST_BYTES = 32 * 1024;
/** The bucket holds this many ms of traffic at the rate, so timer granularity never caps throughput. */
const TBF_BURST_MS = 4;

export function checkShape(shape: LinkShape, what: string): void {
  const fields: [keyof LinkShape, number][] = [['delayMs', 60_000], ['jitterMs', 60_000], ['lossPercent', 100], ['rateMbit', 100_000]];
  for (const [field, max] of fields) {
    const value = shape[field];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > max) {
      throw new NetLabError('NETLAB_BAD_INPUT', `${what}: ${field} must be a number from 0 to ${max}, got ${JSON.stringify(value)}`);
    }
  }
  if (shape.rateMbit === 0) throw new NetLabError('NETLAB_BAD_INPUT', `${what}: rateMbit must be above 0 (leave it out for no limit)`);
  if ((shape.jitterMs ?? 0) > (shape.delayMs ?? 0)) {
    throw new NetLabError('NETLAB_BAD_INPUT', `${what}: jitterMs (${shape.jitterMs}) must not exceed delayMs (${shape.delayMs ?? 0})`);
  }
}

/** Whether the shape asks for delay, jitter or loss (what netem or the delay line does). */
export function impairs(shape: LinkShape): boolean {
  return (shape.delayMs ?? 0) > 0 || (shape.jitterMs ?? 0) > 0 || (shape.lossPercent ?? 0) > 0;
}

export function tbfArgs(rateMbit: number): string[] {
  const bytesPerSecond = (rateMbit * 1e6) / 8;
  const burst = Math.max(TBF_MIN_BURST_BYTES, Math.ceil((bytesPerSecond * TBF_BURST_MS) / 1000));
  return ['tbf', 'rate', `${rateMbit}mbit`, 'burst', String(burst), 'latency', TBF_LATENCY];
}

export function netemArgs(shape: LinkShape): string[] {
  const args = ['netem', 'delay', `${shape.delayMs ?? 0}ms`];
  if ((shape.jitterMs ?? 0) > 0) args.push(`${shape.jitterMs}ms`);
  if ((shape.lossPercent ?? 0) > 0) args.push('loss', `${shape.lossPercent}%`);
  return args;
}

/**
 * Shapes the egress of one device: netem (when `withNetem`) with tbf under it, or tbf alone, or
 * nothing. Called for both ends of a host's link, so each direction is shaped once.
 */
export async function applyQdisc(namespace: string, device: string, shape: LinkShape, withNetem: boolean): Promise<void> {
  await tryRun('tc', ['-n', namespace, 'qdisc', 'del', 'dev', device, 'root']);
  const rate = shape.rateMbit;
  if (withNetem && impairs(shape)) {
    await tcIn(namespace, ['qdisc', 'add', 'dev', device, 'root', 'handle', '1:', ...netemArgs(shape)]);
    if (rate !== undefined) await tcIn(namespace, ['qdisc', 'add', 'dev', device, 'parent', '1:1', 'handle', '10:', ...tbfArgs(rate)]);
  } else if (rate !== undefined) {
    await tcIn(namespace, ['qdisc', 'add', 'dev', device, 'root', ...tbfArgs(rate)]);
  }
}

// The coordinator's per-step cost as a model of the number of members it serves: a CPU part
// a + b·N (decode and average N gradient sets, one Adam step, encode once and send N times) fitted
// by least squares to measured runs, plus the link part 2 · frameBytes · N / bandwidth (N frames
// of gradients in, N of weights out, through the coordinator's one network link). Pure functions:
// the bench feeds them its measurements, docs/scaling.md shows their output.

export interface LinearFit {
  /** ms at N = 0: the part that does not grow with the workers (Adam, one encode). */
  a: number;
  /** ms per worker (one decode and sum, one send). */
  b: number;
}

/** Ordinary least squares of y = a + b·x. Needs two distinct x. */
export function fitLine(points: readonly { x: number; y: number }[]): LinearFit {
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const sxx = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  if (n < 2 || sxx === 0) throw new RangeError('fitLine needs at least two distinct x values');
  const b = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0) / sxx;
  return { a: my - b * mx, b };
}

export interface StepCostInput {
  fit: LinearFit;
  /** Bytes of one worker's gradient frame (its weights frame is the same size within a few bytes). */
  frameBytes: number;
  /** Members the coordinator serves: workers, or hosts when each runs a relay. */
  members: number;
  /** The coordinator link's bandwidth in bits per second (full duplex: in and out each at this rate). */
  linkBitsPerSecond: number;
  /** true: in and out share the link time (half duplex or a saturated switch); false: they overlap. */
  serialInOut?: boolean;
}

export interface StepCost {
  cpuMs: number;
  linkMs: number;
  totalMs: number;
  /** Which term is the larger. */
  dominant: 'cpu' | 'link';
}

/**
 * Per-step coordinator cost: CPU a + b·N plus the link term. The model counts 2 · bytes ·
 * N / bandwidth (in and out serialised); on a full-duplex link the two directions overlap and the
 * link term is bytes · N / bandwidth. Default: the (conservative) serial form.
 */
export function coordinatorStepCost(i: StepCostInput): StepCost {
  const cpuMs = i.fit.a + i.fit.b * i.members;
  const directions = i.serialInOut === false ? 1 : 2;
  const linkMs = (1000 * 8 * directions * i.frameBytes * i.members) / i.linkBitsPerSecond;
  return { cpuMs, linkMs, totalMs: cpuMs + linkMs, dominant: linkMs > cpuMs ? 'link' : 'cpu' };
}

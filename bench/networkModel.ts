// The step-time model across a network: step = base + k·RTT + s·(bytes ÷ bandwidth), its
// three constants fitted by least squares to measured runs. k counts the round trips a step
// waits for; s, how much of a step's bytes cross the narrowest link one after another (1: all of
// them, serially).

export interface NetworkPoint {
  rttMs: number;
  /** The coordinator link's bandwidth; undefined: not limited (the transfer term is left out). */
  rateMbit?: number;
  /** Bytes on the wire per step (all workers, both directions). */
  bytesPerStep: number;
  stepMs: number;
}

export interface StepModel {
  /** What depends on neither RTT nor bandwidth (compute, when it is in the points). */
  baseMs: number;
  roundTrips: number;
  serialShare: number;
}

/** Milliseconds the step's bytes take at the point's bandwidth (0 when not limited). */
export function transferMs(point: Pick<NetworkPoint, 'rateMbit' | 'bytesPerStep'>): number {
  return point.rateMbit === undefined ? 0 : (point.bytesPerStep * 8) / (point.rateMbit * 1e6) * 1000;
}

export function predictStepMs(model: StepModel, point: Omit<NetworkPoint, 'stepMs'>): number {
  return model.baseMs + model.roundTrips * point.rttMs + model.serialShare * transferMs(point);
}

/** Solves the 3×3 system a·x = b by Gaussian elimination with partial pivoting. */
function solve3(a: number[][], b: number[]): number[] {
  const m = a.map((row, i) => [...row, b[i]]);
  for (let col = 0; col < 3; col++) {
    let pivot = col;
    for (let row = col + 1; row < 3; row++) if (Math.abs(m[row][col]) > Math.abs(m[pivot][col])) pivot = row;
    [m[col], m[pivot]] = [m[pivot], m[col]];
    if (Math.abs(m[col][col]) < 1e-12) throw new Error('the network runs do not determine the model: vary both the RTT and the bandwidth');
    for (let row = 0; row < 3; row++) {
      if (row === col) continue;
      const factor = m[row][col] / m[col][col];
      for (let k = col; k < 4; k++) m[row][k] -= factor * m[col][k];
    }
  }
  return [0, 1, 2].map((i) => m[i][3] / m[i][i]);
}

/** Least-squares fit of the model to the points (the normal equations of [1, RTT, transfer]). */
export function fitStepModel(points: NetworkPoint[]): StepModel {
  const features = points.map((p) => [1, p.rttMs, transferMs(p)]);
  const ata = [0, 1, 2].map((i) => [0, 1, 2].map((j) => features.reduce((sum, f) => sum + f[i] * f[j], 0)));
  const atb = [0, 1, 2].map((i) => features.reduce((sum, f, n) => sum + f[i] * points[n].stepMs, 0));
  const [baseMs, roundTrips, serialShare] = solve3(ata, atb);
  return { baseMs, roundTrips, serialShare };
}

// Reductions and checks over the named Float32Arrays that gradients, statistics and optimizer
// state travel as. Sums accumulate in float64 (a JS number) so that a norm of a million float32
// values is not itself the thing that overflows or loses precision.

export type TensorMap = ReadonlyMap<string, Float32Array>;

/** Index of the first NaN or ±Infinity in `values`, or -1 when all are finite. */
export function firstNonFinite(values: ArrayLike<number>): number {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) return i;
  }
  return -1;
}

export interface NonFiniteValue {
  name: string;
  index: number;
  value: number;
}

/** The first non-finite value of a map, by tensor name and element index, or null. */
export function findNonFiniteValue(tensors: TensorMap): NonFiniteValue | null {
  for (const [name, values] of tensors) {
    const index = firstNonFinite(values);
    if (index >= 0) return { name, index, value: values[index] };
  }
  return null;
}

export function sumOfSquares(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i] * values[i];
  return sum;
}

/** The L2 norm of all tensors taken together, as torch.nn.utils.clip_grad_norm_ measures it. */
export function globalNorm(tensors: TensorMap): number {
  let sum = 0;
  for (const values of tensors.values()) sum += sumOfSquares(values);
  return Math.sqrt(sum);
}

/** Added to the norm before dividing, as torch does, so a zero gradient stays zero. */
export const CLIP_EPSILON = 1e-6;

export interface ClipResult {
  gradients: Map<string, Float32Array>;
  /** Global norm before clipping. */
  norm: number;
  /** Factor every value was multiplied by (1 when the norm was within the limit). */
  scale: number;
}

/**
 * Global-norm clipping (torch.nn.utils.clip_grad_norm_): when the norm of all gradients together
 * exceeds `maxNorm`, every value is scaled by maxNorm / (norm + ε). Returns new arrays; the input
 * is not changed, so a refused update leaves nothing half-clipped behind.
 */
export function clipByGlobalNorm(gradients: TensorMap, maxNorm: number): ClipResult {
  if (!(maxNorm > 0) || !Number.isFinite(maxNorm)) throw new RangeError(`clipByGlobalNorm: maxNorm must be a positive finite number, got ${maxNorm}`);
  const norm = globalNorm(gradients);
  const scale = Math.min(1, maxNorm / (norm + CLIP_EPSILON));
  const clipped = new Map<string, Float32Array>();
  for (const [name, values] of gradients) {
    clipped.set(name, scale === 1 ? values : values.map((v) => v * scale));
  }
  return { gradients: clipped, norm, scale };
}

/** Median of `values` (the lower of the two middle ones for an even count); NaN when empty. */
export function lowerMedian(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

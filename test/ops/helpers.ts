// Shared test plumbing for ops and kernels: backend switching, seeded data, error measures.
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/index.js';
import { createRng } from '../../src/data/rng.js';

export const TEST_BACKENDS = ['cpu', 'wasm'] as const;
export type TestBackend = (typeof TEST_BACKENDS)[number];

export async function useBackend(name: TestBackend): Promise<void> {
  if (tf.getBackend() !== name) await initBackend(name);
}

/** Seeded uniform values in [low, high). */
export function seeded(seed: number, count: number, low = -1, high = 1): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: count }, () => low + (high - low) * rng.next());
}

/** ‖a − b‖ / ‖b‖ (b the reference); 0 when both are zero. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`relativeError: lengths differ (${a.length} vs ${b.length})`);
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return den === 0 ? Math.sqrt(num) : Math.sqrt(num / den);
}

export function values(t: tf.Tensor | tf.TensorInfo): Float32Array {
  return (t instanceof tf.Tensor ? t : tf.engine().makeTensorFromTensorInfo(t)).dataSync() as Float32Array;
}

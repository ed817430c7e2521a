// Which KernelMath the wasm kernels use: one per backend instance, the SIMD module when it
// instantiates against the backend's memory, else the JS loops. Tests and benchmarks may force
// either.
import * as tf from '@tensorflow/tfjs';
import type { WasmBackendLike } from './heap.js';
import { createJsMath } from './jsMath.js';
import type { KernelMath } from './kernelMath.js';
import { createSimdMath } from './simdMath.js';
import { KernelError } from '../errors.js';

export type KernelMathChoice = 'auto' | 'simd' | 'js';
let preference: KernelMathChoice = 'auto';
const mathByBackend = new WeakMap<object, KernelMath>();

/** For tests and benchmarks: force the JS loops or the SIMD module (default: auto). */
export function useKernelMath(choice: KernelMathChoice): void {
  preference = choice;
}

/** The implementation in use for the active wasm backend ('simd' or 'js'). */
export function activeKernelMath(backend: unknown = tf.backend()): string {
  return mathFor(backend as WasmBackendLike).name;
}

export function mathFor(backend: WasmBackendLike): KernelMath {
  const jsMath = () => createJsMath(() => backend.wasm.HEAPF32);
  if (preference === 'js') return jsMath();
  let math = mathByBackend.get(backend);
  if (math === undefined) {
    math = createSimdMath(backend) ?? jsMath();
    mathByBackend.set(backend, math);
  }
  if (preference === 'simd' && math.name !== 'simd') throw new KernelError('KERNEL_UNAVAILABLE', 'wasm kernels: the SIMD module could not be loaded');
  return math;
}


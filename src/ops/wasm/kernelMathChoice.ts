// Which KernelMath the wasm kernels use: one per backend instance and choice. 'auto' takes the
// relaxed-SIMD build (fused multiply-adds) where relaxed SIMD validates, else the plain SIMD
// build, else the JS loops. DSDC_WASM_KERNELS=fma|simd|js forces one for a whole process (and the
// workers it starts); tests and benchmarks may force one with useKernelMath.
import * as tf from '@tensorflow/tfjs';
import type { WasmBackendLike } from './heap.js';
import { createJsMath } from './jsMath.js';
import type { KernelMath } from './kernelMath.js';
import { relaxedSimdSupported } from './relaxedSimd.js';
import { type SimdVariant, createSimdMath } from './simdMath.js';
import { KernelError } from '../errors.js';

export const KERNEL_MATH_CHOICES = ['auto', 'fma', 'simd', 'js'] as const;
export type KernelMathChoice = (typeof KERNEL_MATH_CHOICES)[number];
export const KERNEL_MATH_ENV = 'DSDC_WASM_KERNELS';

let forced: KernelMathChoice | undefined;
/** DSDC_WASM_KERNELS as read once: mathFor runs on every kernel call, and process.env is slow to read. */
let fromEnv: KernelMathChoice | undefined;
const mathByBackend = new WeakMap<object, Map<KernelMathChoice, KernelMath>>();

/** For tests and benchmarks: force one implementation, or 'auto' (over DSDC_WASM_KERNELS). */
export function useKernelMath(choice: KernelMathChoice): void {
  forced = choice;
}

/** DSDC_WASM_KERNELS, checked; 'auto' when unset or empty. */
export function kernelMathFromEnv(env: NodeJS.ProcessEnv = process.env): KernelMathChoice {
  const value = (env[KERNEL_MATH_ENV] ?? '').trim().toLowerCase();
  if (value === '') return 'auto';
  if (!(KERNEL_MATH_CHOICES as readonly string[]).includes(value)) {
    throw new KernelError('KERNEL_BAD_SETTING', `${KERNEL_MATH_ENV}=${JSON.stringify(env[KERNEL_MATH_ENV])} is not a kernel set; use one of ${KERNEL_MATH_CHOICES.join(', ')}`);
  }
  return value as KernelMathChoice;
}

/** The implementation in use for the active wasm backend: 'fma', 'simd' or 'js'. */
export function activeKernelMath(backend: unknown = tf.backend()): string {
  return mathFor(backend as WasmBackendLike).name;
}

export function mathFor(backend: WasmBackendLike): KernelMath {
  const choice = forced ?? (fromEnv ??= kernelMathFromEnv());
  let byChoice = mathByBackend.get(backend);
  if (byChoice === undefined) mathByBackend.set(backend, (byChoice = new Map()));
  let math = byChoice.get(choice);
  if (math === undefined) {
    math = resolve(backend, choice);
    byChoice.set(choice, math);
  }
  return math;
}

function resolve(backend: WasmBackendLike, choice: KernelMathChoice): KernelMath {
  const jsMath = () => createJsMath(() => backend.wasm.HEAPF32);
  if (choice === 'js') return jsMath();
  if (choice === 'auto') {
    const variants: SimdVariant[] = relaxedSimdSupported() ? ['fma', 'simd'] : ['simd'];
    for (const variant of variants) {
      const math = createSimdMath(backend, variant);
      if (math !== undefined) return math;
    }
    return jsMath();
  }
  const math = createSimdMath(backend, choice);
  if (math === undefined) {
    const why = choice === 'fma' && !relaxedSimdSupported() ? ': this Node does not run wasm relaxed SIMD' : '';
    throw new KernelError('KERNEL_UNAVAILABLE', `wasm kernels: the ${choice} build of the SIMD kernels could not be loaded${why}`);
  }
  return math;
}

// Registers our kernels for the tfjs wasm backend: replacements for missing or slow stock
// kernels (stockKernels.ts) and the named kernels our ops call (dsdcKernels.ts). The arithmetic
// runs in the SIMD module built from kernels/dsdc_kernels.c, or in JS loops when it cannot load
// (kernelMathChoice.ts). Called by src/backend before tf.setBackend('wasm').
import * as tf from '@tensorflow/tfjs';
import { DSDC_KERNELS } from './dsdcKernels.js';
import type { KernelArgs } from './heap.js';
import { STOCK_REPLACEMENTS, stockKernels } from './stockKernels.js';

export { KERNEL_MATH_CHOICES, KERNEL_MATH_ENV, type KernelMathChoice, activeKernelMath, kernelMathFromEnv, useKernelMath } from './kernelMathChoice.js';
export { NO_RELAXED_SIMD_V8_FLAG, RELAXED_SIMD_V8_FLAG, enableRelaxedSimd, relaxedSimdSupported } from './relaxedSimd.js';

const BACKEND = 'wasm';

const KERNELS: Array<[string, (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[]]> = [...STOCK_REPLACEMENTS, ...DSDC_KERNELS];

/** Names of the kernels registerWasmKernels() adds or replaces for the wasm backend. */
export const WASM_KERNEL_NAMES: readonly string[] = KERNELS.map(([name]) => name);

/** Idempotent; call before tf.setBackend('wasm'). Replaces stock kernels of the same name. */
export function registerWasmKernels(): void {
  for (const [kernelName, kernelFunc] of KERNELS) {
    const current = tf.getKernel(kernelName, BACKEND);
    if (current !== undefined && current.kernelFunc !== (kernelFunc as unknown)) stockKernels.set(kernelName, current);
    if (current?.kernelFunc === (kernelFunc as unknown)) continue;
    if (current !== undefined) tf.unregisterKernel(kernelName, BACKEND);
    tf.registerKernel({ kernelName, backendName: BACKEND, kernelFunc: kernelFunc as unknown as tf.KernelFunc });
  }
}

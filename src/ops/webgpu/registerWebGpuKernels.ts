// Registers our WGSL kernels for the tfjs webgpu backend: the named kernels our ops call
// (DEPTHWISE_FILTER_GRAD, MATMUL_TRANSPOSE_A, BN_RELU_FORWARD, BN_RELU_BACKWARD; see
// dsdcKernels.ts). Every other kernel of a training step is one of tfjs-backend-webgpu's own.
// Called by src/backend before tf.setBackend('webgpu').
import * as tf from '@tensorflow/tfjs';
import { DSDC_WEBGPU_KERNELS } from './dsdcKernels.js';

const BACKEND = 'webgpu';

const KERNELS = DSDC_WEBGPU_KERNELS as unknown as Array<[string, tf.KernelFunc]>;

/** Names of the kernels registerWebGpuKernels() adds for the webgpu backend. */
export const WEBGPU_KERNEL_NAMES: readonly string[] = KERNELS.map(([name]) => name);

/** Idempotent. */
export function registerWebGpuKernels(): void {
  for (const [kernelName, kernelFunc] of KERNELS) {
    const current = tf.getKernel(kernelName, BACKEND);
    if (current?.kernelFunc === kernelFunc) continue;
    if (current !== undefined) tf.unregisterKernel(kernelName, BACKEND);
    tf.registerKernel({ kernelName, backendName: BACKEND, kernelFunc });
  }
}

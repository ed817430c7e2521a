// Looks up optional fast kernels. Ops in this folder call a named kernel when the active
// backend has one registered (the wasm ones: src/ops/wasm/registerWasmKernels.ts) and fall back to a composite of stock
// tfjs ops otherwise, so every backend trains and new speed-ups are added by registering.
import * as tf from '@tensorflow/tfjs';

export function hasKernel(kernelName: string): boolean {
  return tf.getKernel(kernelName, tf.getBackend()) !== undefined;
}

export function runKernel<T extends tf.Tensor>(
  kernelName: string,
  inputs: Record<string, tf.Tensor>,
  attrs: Record<string, unknown> = {},
): T {
  return tf.engine().runKernel(kernelName, inputs as tf.NamedTensorMap, attrs as tf.NamedAttrMap) as T;
}

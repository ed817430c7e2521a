// The shape every kernel with a fast path shares: when the fast path covers the call, make the
// output and let the KernelMath in use fill it from heap offsets; otherwise hand the call to the
// kernel that covers everything (the stock one). Kernels state only what differs: which calls
// are covered, the output's shape and the math call.
import type * as tf from '@tensorflow/tfjs';
import { type KernelArgs, type WasmBackendLike, offsetOf } from './heap.js';
import type { KernelMath } from './kernelMath.js';
import { mathFor } from './kernelMathChoice.js';

export interface FastPath {
  /** Whether the fast path computes this call (dtypes, layout, sizes); decided before any allocation. */
  covered: (math: KernelMath) => boolean;
  outShape: number[];
  /** Fills `out`; `heap` gives a tensor's byte offset in the wasm heap. */
  compute: (math: KernelMath, heap: (tensor: tf.TensorInfo) => number, out: tf.TensorInfo) => void;
  /** The kernel for every call the fast path does not cover. */
  fallback: () => tf.TensorInfo;
}

export function runFastPath(args: KernelArgs, path: FastPath): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const math = mathFor(backend);
  if (!path.covered(math)) return path.fallback();
  const out = backend.makeOutput(path.outShape, 'float32');
  path.compute(math, (tensor) => offsetOf(backend, tensor), out);
  return out;
}

// The slice of the tfjs wasm backend that our kernels touch, typed loosely so that nothing here
// imports @tensorflow/tfjs-backend-wasm (only src/backend/ does). Tensors live in the backend's
// WebAssembly heap; a kernel works on byte offsets into it and allocates outputs with
// makeOutput. Memory can grow on any allocation, so typed-array views are taken afresh from
// `wasm.HEAPF32` (emscripten swaps it on growth) after the last allocation of a kernel call.
import type * as tf from '@tensorflow/tfjs';
import { KernelError } from '../errors.js';

export interface WasmModuleLike {
  HEAPF32: Float32Array;
  _malloc(bytes: number): number;
  _free(pointer: number): void;
  asm: { memory: WebAssembly.Memory };
}

export interface WasmBackendLike {
  wasm: WasmModuleLike;
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  incRef(dataId: object): void;
}

export interface KernelArgs {
  inputs: Record<string, tf.TensorInfo>;
  backend: unknown;
  attrs?: Record<string, unknown>;
}

/** Byte offset of a tensor's data in the wasm heap. */
export function offsetOf(backend: WasmBackendLike, tensor: tf.TensorInfo): number {
  return backend.dataIdMap.get(tensor.dataId).memoryOffset;
}

export function requireFloat32(kernelName: string, tensors: Record<string, tf.TensorInfo>): void {
  for (const [name, t] of Object.entries(tensors)) {
    if (t.dtype !== 'float32') {
      throw new KernelError('KERNEL_INPUT', `${kernelName}: input '${name}' must be float32, got ${t.dtype}`);
    }
  }
}

/** Scratch memory from the backend's allocator, freed by the caller (try/finally). */
export function withScratch<T>(backend: WasmBackendLike, bytes: number, use: (pointer: number) => T): T {
  const pointer = backend.wasm._malloc(Math.max(16, bytes));
  if (pointer === 0) throw new KernelError('KERNEL_UNAVAILABLE', `wasm kernels: could not allocate ${bytes} bytes of scratch memory`);
  try {
    return use(pointer >>> 0);
  } finally {
    backend.wasm._free(pointer);
  }
}

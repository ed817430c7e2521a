// The shape of a WGSL program as tfjs-backend-webgpu runs it (its WebGPUProgram interface) and
// the one call our kernels make. The backend wraps getUserCode() with the bindings (`result`,
// one storage array per variable name, `uniforms`), setOutputAtIndex() and the _start entry.
// Every variable and the uniforms must be used by the shader: pipelines use layout 'auto', which
// drops unused bindings.
import type * as tf from '@tensorflow/tfjs';
import { KernelError } from '../errors.js';

export interface WgslProgram {
  variableNames: string[];
  outputShape: number[];
  /** Shapes are uniforms, so one key serves every shape; constants baked into the code go in it. */
  shaderKey: string;
  workgroupSize: [number, number, number];
  dispatchLayout: { x: number[]; y?: number[]; z?: number[] };
  dispatch: [number, number, number];
  /** WGSL struct fields after the shapes, e.g. 'rows : i32, epsilon : f32,'. */
  uniforms?: string;
  size?: boolean;
  getUserCode(): string;
}

export type Uniforms = Array<{ type: 'int32' | 'float32'; data: number[] }>;

export interface WebGpuBackendLike {
  runWebGPUProgram(program: WgslProgram, inputs: tf.TensorInfo[], outputDtype: tf.DataType, uniforms?: Uniforms): tf.TensorInfo;
  disposeData(dataId: tf.DataId): boolean;
}

export interface KernelArgs {
  inputs: Record<string, tf.TensorInfo>;
  backend: unknown;
  attrs: Record<string, unknown>;
}

export function run(backend: unknown, program: WgslProgram, inputs: tf.TensorInfo[], uniforms: Uniforms): tf.TensorInfo {
  return (backend as WebGpuBackendLike).runWebGPUProgram(program, inputs, 'float32', uniforms);
}

/** Frees an intermediate; the backend defers it until the queued dispatches that read it are submitted. */
export function release(backend: unknown, info: tf.TensorInfo): void {
  (backend as WebGpuBackendLike).disposeData(info.dataId);
}

export function requireFloat32(kernel: string, tensors: Record<string, tf.TensorInfo>): void {
  for (const [name, t] of Object.entries(tensors)) {
    if (t.dtype !== 'float32') throw new KernelError('KERNEL_INPUT', `${kernel} (webgpu): input ${name} must be float32, got ${t.dtype}`);
  }
}

export const ceilDiv = (a: number, b: number) => Math.ceil(a / b);
export const ints = (...data: number[]) => ({ type: 'int32' as const, data });
export const floats = (...data: number[]) => ({ type: 'float32' as const, data });

/** One thread per output element (guarded by uniforms.size), in one-dimensional workgroups of `threads`. */
export abstract class PerElementProgram implements WgslProgram {
  readonly workgroupSize: [number, number, number];
  readonly dispatchLayout = { x: [0] };
  readonly dispatch: [number, number, number];
  readonly size = true;
  constructor(
    readonly variableNames: string[],
    readonly outputShape: number[],
    readonly shaderKey: string,
    readonly uniforms: string,
    threads: number,
  ) {
    this.workgroupSize = [threads, 1, 1];
    this.dispatch = [ceilDiv(outputShape.reduce((a, b) => a * b, 1), threads), 1, 1];
  }
  abstract getUserCode(): string;
}

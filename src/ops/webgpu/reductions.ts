// Sums over the N·H·W rows of NHWC tensors, per channel, in two passes: partial sums of row
// chunks (one thread per channel, so neighbouring threads read neighbouring floats), then a sum
// over the chunks with a finishing formula. Chunking gives the GPU enough workgroups when the
// channel count is small, which a reduction over the rows alone would not.
import type * as tf from '@tensorflow/tfjs';
import { ceilDiv, floats, ints, PerElementProgram, release, run, type WgslProgram } from './program.js';

/** Rows summed by one thread of the first pass. */
export const ROWS_PER_CHUNK = 64;
/** The chunk count is capped so that the second pass stays short. */
export const MAX_CHUNKS = 2048;
const CHANNEL_THREADS = 64;
const FINISH_THREADS = 64;

export function chunking(rows: number): { chunks: number; chunkRows: number } {
  const chunks = Math.max(1, Math.min(MAX_CHUNKS, ceilDiv(rows, ROWS_PER_CHUNK)));
  return { chunks, chunkRows: ceilDiv(rows, chunks) };
}

/**
 * Partial sums [chunks, taps, channels] of `term` (WGSL for the value of row `r`, tap `t`,
 * channel `c`, as `f32`) over the rows of each chunk.
 */
export class PartialSumsProgram implements WgslProgram {
  readonly outputShape: number[];
  readonly workgroupSize: [number, number, number] = [CHANNEL_THREADS, 1, 1];
  readonly dispatchLayout = { x: [2], y: [1], z: [0] };
  readonly dispatch: [number, number, number];
  readonly uniforms: string;
  constructor(
    readonly variableNames: string[],
    chunks: number,
    taps: number,
    channels: number,
    readonly shaderKey: string,
    private readonly term: string,
    private readonly prelude: string,
    extraUniforms = '',
  ) {
    this.outputShape = [chunks, taps, channels];
    this.dispatch = [ceilDiv(channels, CHANNEL_THREADS), taps, chunks];
    this.uniforms = `rows : i32, channels : i32, taps : i32, chunkRows : i32, ${extraUniforms}`;
  }
  getUserCode(): string {
    return `
      ${this.prelude}
      fn main() {
        let c = i32(globalId.x);
        let t = i32(globalId.y);
        let s = i32(globalId.z);
        if (c >= uniforms.channels) { return; }
        let r0 = s * uniforms.chunkRows;
        let r1 = min(uniforms.rows, r0 + uniforms.chunkRows);
        var acc = 0.0;
        for (var r = r0; r < r1; r = r + 1) {
          acc = acc + ${this.term};
        }
        setOutputAtIndex((s * uniforms.taps + t) * uniforms.channels + c, acc);
      }`;
  }
}

/**
 * out[i] for i over outputShape, from `finish`: a WGSL body that sets `value`, with
 * totalAt(j) = Σ_s partials[s, j] (j over taps·channels) and the extra variables at hand.
 */
export class FinishSumsProgram extends PerElementProgram {
  constructor(
    variableNames: string[],
    outputShape: number[],
    shaderKey: string,
    private readonly finish: string,
    extraUniforms = '',
  ) {
    super(variableNames, outputShape, shaderKey, `chunks : i32, width : i32, ${extraUniforms}`, FINISH_THREADS);
  }
  getUserCode(): string {
    return `
      fn totalAt(j : i32) -> f32 {
        var total = 0.0;
        for (var s = 0; s < uniforms.chunks; s = s + 1) {
          total = total + partials[s * uniforms.width + j];
        }
        return total;
      }
      fn main(i : i32) {
        if (i >= uniforms.size) { return; }
        var value = 0.0;
        ${this.finish}
        setOutputAtIndex(i, value);
      }`;
  }
}

export interface ChannelSums {
  backend: unknown;
  /** Inputs of the first pass, named as `term` uses them. */
  inputs: Array<[string, tf.TensorInfo]>;
  rows: number;
  channels: number;
  taps: number;
  key: string;
  term: string;
  prelude?: string;
  extraUniforms?: string;
  extraValues?: Array<{ type: 'int32' | 'float32'; data: number[] }>;
}

/** Runs the first pass; the caller finishes (and releases) the partial sums. */
export function partialSums(o: ChannelSums): { partials: tf.TensorInfo; chunks: number } {
  const { chunks, chunkRows } = chunking(o.rows);
  const program = new PartialSumsProgram(o.inputs.map(([n]) => n), chunks, o.taps, o.channels, o.key, o.term, o.prelude ?? '', o.extraUniforms);
  const partials = run(o.backend, program, o.inputs.map(([, t]) => t), [ints(o.rows), ints(o.channels), ints(o.taps), ints(chunkRows), ...(o.extraValues ?? [])]);
  return { partials, chunks };
}

export function finishSums(
  backend: unknown,
  partials: tf.TensorInfo,
  chunks: number,
  width: number,
  extra: Array<[string, tf.TensorInfo]>,
  outputShape: number[],
  key: string,
  finish: string,
  extraUniforms = '',
  extraValues: Array<{ type: 'int32' | 'float32'; data: number[] }> = [],
): tf.TensorInfo {
  const program = new FinishSumsProgram(['partials', ...extra.map(([n]) => n)], outputShape, key, finish, extraUniforms);
  return run(backend, program, [partials, ...extra.map(([, t]) => t)], [ints(chunks), ints(width), ...extraValues]);
}

export { floats, ints, release };

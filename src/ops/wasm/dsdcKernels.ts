// The kernels the ops in src/ops call by name (DEPTHWISE_FILTER_GRAD, MATMUL, MATMUL_TRANSPOSE_A,
// BN_RELU_FORWARD, BN_RELU_BACKWARD, BN_RELU_POINTWISE_BACKWARD, SPREAD_OVER_ROWS), for the wasm backend. Each kernelFunc does the tfjs
// plumbing (shapes, outputs, heap offsets) and leaves the arithmetic to the KernelMath in use.
import * as tf from '@tensorflow/tfjs';
import { BN_RELU_BACKWARD, BN_RELU_FORWARD, BN_RELU_POINTWISE_BACKWARD } from '../batchNormRelu.js';
import { DEPTHWISE_FILTER_GRAD } from '../depthwiseDilated.js';
import { MATMUL, MATMUL_TRANSPOSE_A } from '../pointwise.js';
import { SPREAD_OVER_ROWS } from '../meanGradient.js';
import { type KernelArgs, type WasmBackendLike, offsetOf, requireFloat32, withScratch } from './heap.js';
import { runFastPath } from './fastPath.js';
import { mathFor } from './kernelMathChoice.js';
import { KernelError } from '../errors.js';

function depthwiseFilterGrad({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const wasmBackend = backend as WasmBackendLike;
  const { x, dy } = inputs;
  requireFloat32(DEPTHWISE_FILTER_GRAD, { x, dy });
  const { kernelSize, dilation } = attrs as { kernelSize: number; dilation: number };
  const [batch, height, width, channels] = x.shape;
  const out = wasmBackend.makeOutput([kernelSize, kernelSize, channels, 1], 'float32');
  mathFor(wasmBackend).depthwiseFilterGrad(
    offsetOf(wasmBackend, x),
    offsetOf(wasmBackend, dy),
    offsetOf(wasmBackend, out),
    batch,
    height,
    width,
    channels,
    kernelSize,
    dilation,
  );
  return out;
}

// Shapes our matrix kernels do not cover go to the stock BatchMatMul (registered, set up).
function stockMatMul(args: KernelArgs, transposeA: boolean): tf.TensorInfo {
  const stock = tf.getKernel('BatchMatMul', 'wasm');
  if (stock === undefined) throw new KernelError('KERNEL_UNAVAILABLE', 'wasm kernels: the stock BatchMatMul kernel is not registered');
  return stock.kernelFunc({ ...args, attrs: { transposeA, transposeB: false } } as unknown as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
}

/**
 * Column moments of products made with `columnMoments` (the forward pass of a pointwise
 * convolution), by the product's data: the batch norm after it reads them instead of making a
 * pass of its own over the data. Tensors are immutable and a data id is never reused, so an entry
 * cannot go stale; it goes when the data does. Also which KernelMath made them: the moments are
 * the ones that math's bnReluForward would compute.
 */
const momentsByData = new WeakMap<object, { math: string; values: Float32Array }>();

function matMul(args: KernelArgs): tf.TensorInfo {
  const { a, b } = args.inputs;
  const { columnMoments } = args.attrs as { columnMoments?: boolean };
  requireFloat32(MATMUL, { a, b });
  const [m, k] = a.shape;
  const [kb, n] = b.shape;
  if (k !== kb) throw new KernelError('KERNEL_INPUT', `${MATMUL}: a is [${a.shape}] and b is [${b.shape}]; a's columns must match b's rows`);
  return runFastPath(args, {
    covered: (math) => math.coversMatMul(k, n, false),
    outShape: [m, n],
    compute: (math, heap, out) => {
      if (!columnMoments || math.matMulWithMoments === undefined) return math.matMul(heap(a), heap(b), heap(out), m, k, n);
      momentsByData.set(out.dataId, { math: math.name, values: math.matMulWithMoments(heap(a), heap(b), heap(out), m, k, n) });
    },
    fallback: () => stockMatMul(args, false),
  });
}

function matMulTransposeA(args: KernelArgs): tf.TensorInfo {
  const { a, b } = args.inputs;
  requireFloat32(MATMUL_TRANSPOSE_A, { a, b });
  const [m, k] = a.shape;
  const [mb, n] = b.shape;
  if (m !== mb) throw new KernelError('KERNEL_INPUT', `${MATMUL_TRANSPOSE_A}: a is [${a.shape}] and b is [${b.shape}]; their first dimensions must match`);
  return runFastPath(args, {
    covered: (math) => math.coversMatMul(k, n, true),
    outShape: [k, n],
    compute: (math, heap, out) => math.matMulTransposeA(heap(a), heap(b), heap(out), m, k, n),
    fallback: () => stockMatMul(args, true),
  });
}

function rowsAndChannels(shape: number[]): [number, number] {
  const channels = shape[shape.length - 1];
  return [shape.reduce((p, v) => p * v, 1) / channels, channels];
}

function bnReluForward({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const wasmBackend = backend as WasmBackendLike;
  const { x, gamma, beta } = inputs;
  requireFloat32(BN_RELU_FORWARD, { x, gamma, beta });
  const { epsilon } = attrs as { epsilon: number };
  const [rows, channels] = rowsAndChannels(x.shape);
  const y = wasmBackend.makeOutput(x.shape, 'float32');
  const mean = wasmBackend.makeOutput([channels], 'float32');
  const variance = wasmBackend.makeOutput([channels], 'float32');
  const at = (t: tf.TensorInfo) => offsetOf(wasmBackend, t);
  const math = mathFor(wasmBackend);
  const moments = momentsByData.get(x.dataId);
  if (moments !== undefined && math.bnReluForwardWithMoments !== undefined && moments.math === math.name && moments.values.length === 2 * channels) {
    math.bnReluForwardWithMoments(at(x), at(gamma), at(beta), at(y), at(mean), at(variance), moments.values, rows, channels, epsilon);
  } else {
    math.bnReluForward(at(x), at(gamma), at(beta), at(y), at(mean), at(variance), rows, channels, epsilon);
  }
  return [y, mean, variance];
}

function bnReluBackward({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const wasmBackend = backend as WasmBackendLike;
  const { dy, x, gamma, output, mean, variance } = inputs;
  requireFloat32(BN_RELU_BACKWARD, { dy, x, gamma, output, mean, variance });
  const { epsilon } = attrs as { epsilon: number };
  const [rows, channels] = rowsAndChannels(x.shape);
  const dx = wasmBackend.makeOutput(x.shape, 'float32');
  const dgamma = wasmBackend.makeOutput([channels], 'float32');
  const dbeta = wasmBackend.makeOutput([channels], 'float32');
  const at = (t: tf.TensorInfo) => offsetOf(wasmBackend, t);
  mathFor(wasmBackend).bnReluBackward(at(dy), at(x), at(gamma), at(output), at(mean), at(variance), at(dx), at(dgamma), at(dbeta), rows, channels, epsilon);
  return [dx, dgamma, dbeta];
}

// Batch norm + ReLU's backward and the pointwise convolution's before it in one kernel: the fused
// pass where the KernelMath has one for these channels, else bnReluBackward into scratch and the
// two products from it.
function bnReluPointwiseBackward({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const wasmBackend = backend as WasmBackendLike;
  const { dy, x, gamma, output, mean, variance, a, wT } = inputs;
  requireFloat32(BN_RELU_POINTWISE_BACKWARD, { dy, x, gamma, output, mean, variance, a, wT });
  const { epsilon } = attrs as { epsilon: number };
  const [rows, channels] = rowsAndChannels(x.shape);
  const inChannels = a.shape[a.shape.length - 1];
  if (a.shape[0] !== rows || wT.shape[0] !== channels || wT.shape[1] !== inChannels) {
    throw new KernelError('KERNEL_INPUT', `${BN_RELU_POINTWISE_BACKWARD}: x is [${x.shape}], a [${a.shape}] and wT [${wT.shape}]; expected a [${rows}, Cin] and wT [${channels}, Cin]`);
  }
  const da = wasmBackend.makeOutput([rows, inChannels], 'float32');
  const dw = wasmBackend.makeOutput([inChannels, channels], 'float32');
  const dgamma = wasmBackend.makeOutput([channels], 'float32');
  const dbeta = wasmBackend.makeOutput([channels], 'float32');
  const at = (t: tf.TensorInfo) => offsetOf(wasmBackend, t);
  const math = mathFor(wasmBackend);
  if (math.bnReluPointwiseBackward !== undefined && math.coversBnReluPointwise?.(inChannels, channels)) {
    math.bnReluPointwiseBackward(at(dy), at(x), at(gamma), at(output), at(mean), at(variance), at(a), at(wT), at(da), at(dw), at(dgamma), at(dbeta), rows, inChannels, channels, epsilon);
  } else {
    withScratch(wasmBackend, 4 * rows * channels, (dx) => {
      math.bnReluBackward(at(dy), at(x), at(gamma), at(output), at(mean), at(variance), dx, at(dgamma), at(dbeta), rows, channels, epsilon);
      math.matMul(dx, at(wT), at(da), rows, channels, inChannels);
      math.matMulTransposeA(at(a), dx, at(dw), rows, inChannels, channels);
    });
  }
  return [da, dw, dgamma, dbeta];
}

function spreadOverRows({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const wasmBackend = backend as WasmBackendLike;
  const { v } = inputs;
  requireFloat32(SPREAD_OVER_ROWS, { v });
  const { outShape } = attrs as { outShape: number[] };
  const [batch, channels] = v.shape;
  const rows = outShape.slice(1, -1).reduce((p, q) => p * q, 1);
  if (v.shape.length !== 2 || outShape[0] !== batch || outShape[outShape.length - 1] !== channels) {
    throw new KernelError('KERNEL_INPUT', `${SPREAD_OVER_ROWS}: v is [${v.shape}] and outShape [${outShape}]; expected v [batch, channels] and outShape [batch, …, channels]`);
  }
  const out = wasmBackend.makeOutput(outShape, 'float32');
  mathFor(wasmBackend).spreadOverRows(offsetOf(wasmBackend, v), offsetOf(wasmBackend, out), batch, rows, channels);
  return out;
}

export const DSDC_KERNELS: Array<[string, (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[]]> = [
  [DEPTHWISE_FILTER_GRAD, depthwiseFilterGrad],
  [MATMUL, matMul],
  [MATMUL_TRANSPOSE_A, matMulTransposeA],
  [BN_RELU_FORWARD, bnReluForward],
  [BN_RELU_BACKWARD, bnReluBackward],
  [BN_RELU_POINTWISE_BACKWARD, bnReluPointwiseBackward],
  [SPREAD_OVER_ROWS, spreadOverRows],
];

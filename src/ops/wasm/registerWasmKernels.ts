// Registers our kernels for the tfjs wasm backend: the ones the stock backend lacks
// (Conv2DBackpropFilter) and the fused/fast kernels that the ops in src/ops call by name.
// Each kernelFunc only does tfjs plumbing (shapes, outputs, heap offsets); the arithmetic is a
// KernelMath chosen once per backend instance: the SIMD module when it instantiates, else JS.
import * as tf from '@tensorflow/tfjs';
import { BN_RELU_BACKWARD, BN_RELU_FORWARD } from '../batchNormRelu.js';
import { DEPTHWISE_FILTER_GRAD } from '../depthwiseDilated.js';
import { MATMUL_TRANSPOSE_A } from '../pointwise.js';
import { type KernelArgs, type WasmBackendLike, offsetOf, requireFloat32 } from './heap.js';
import { createJsMath } from './jsMath.js';
import type { KernelMath } from './kernelMath.js';
import { createSimdMath } from './simdMath.js';

const BACKEND = 'wasm';

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

function mathFor(backend: WasmBackendLike): KernelMath {
  const jsMath = () => createJsMath(() => backend.wasm.HEAPF32);
  if (preference === 'js') return jsMath();
  let math = mathByBackend.get(backend);
  if (math === undefined) {
    math = createSimdMath(backend) ?? jsMath();
    mathByBackend.set(backend, math);
  }
  if (preference === 'simd' && math.name !== 'simd') throw new Error('wasm kernels: the SIMD module could not be loaded');
  return math;
}

function conv2DBackpropFilter({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const wasmBackend = backend as WasmBackendLike;
  const { x, dy } = inputs;
  requireFloat32('Conv2DBackpropFilter', { x, dy });
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  if (tf.backend_util.convertConv2DDataFormat(dataFormat) !== 'channelsLast') {
    throw new Error(`Conv2DBackpropFilter (wasm): only NHWC is supported, got dataFormat ${dataFormat}`);
  }
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const out = wasmBackend.makeOutput(info.filterShape, 'float32');
  mathFor(wasmBackend).conv2dFilterGrad(offsetOf(wasmBackend, x), offsetOf(wasmBackend, dy), offsetOf(wasmBackend, out), {
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    outChannels: info.outChannels,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    dilationHeight: info.dilationHeight,
    dilationWidth: info.dilationWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  });
  return out;
}

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

function matMulTransposeA({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const wasmBackend = backend as WasmBackendLike;
  const { a, b } = inputs;
  requireFloat32(MATMUL_TRANSPOSE_A, { a, b });
  const [m, k] = a.shape;
  const [mb, n] = b.shape;
  if (m !== mb) throw new Error(`${MATMUL_TRANSPOSE_A}: a is [${a.shape}] and b is [${b.shape}]; their first dimensions must match`);
  const out = wasmBackend.makeOutput([k, n], 'float32');
  mathFor(wasmBackend).matMulTransposeA(offsetOf(wasmBackend, a), offsetOf(wasmBackend, b), offsetOf(wasmBackend, out), m, k, n);
  return out;
}

// The stock wasm kernel, kept for the pooling shapes our fast path does not cover. Its setupFunc
// may not have run (we replace it before the backend initialises), so it runs lazily here.
let stockMaxPoolGrad: tf.KernelConfig | undefined;
const stockSetUp = new WeakSet<object>();

function maxPoolGrad(args: KernelArgs): tf.TensorInfo {
  const wasmBackend = args.backend as WasmBackendLike;
  const { dy, input } = args.inputs;
  const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as tf.MaxPoolGradAttrs;
  const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
  const covered =
    input.dtype === 'float32' && dy.dtype === 'float32' && info.filterHeight === 2 && info.filterWidth === 2 &&
    info.strideHeight === 2 && info.strideWidth === 2 && info.padInfo.top === 0 && info.padInfo.left === 0 &&
    info.dilationHeight === 1 && info.dilationWidth === 1;
  if (!covered) {
    if (stockMaxPoolGrad === undefined) throw new Error('MaxPoolGrad (wasm): no stock kernel to fall back to for this pooling shape');
    if (!stockSetUp.has(wasmBackend)) {
      stockMaxPoolGrad.setupFunc?.(wasmBackend as unknown as tf.KernelBackend);
      stockSetUp.add(wasmBackend);
    }
    return stockMaxPoolGrad.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
  }
  const dx = wasmBackend.makeOutput(input.shape, 'float32');
  mathFor(wasmBackend).maxPool2x2Grad(
    offsetOf(wasmBackend, input),
    offsetOf(wasmBackend, dy),
    offsetOf(wasmBackend, dx),
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outHeight,
    info.outWidth,
  );
  return dx;
}

// The stock wasm Identity copies the data; tfjs tensors are immutable, so sharing the buffer
// under a second reference (as the cpu backend and the wasm Reshape do) is enough. The engine
// clones every tensor a customGrad saves, so this removes a full copy per saved activation.
function identity({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const { x } = inputs;
  (backend as WasmBackendLike).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
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
  mathFor(wasmBackend).bnReluForward(
      offsetOf(wasmBackend, x),
      offsetOf(wasmBackend, gamma),
      offsetOf(wasmBackend, beta),
      offsetOf(wasmBackend, y),
      offsetOf(wasmBackend, mean),
      offsetOf(wasmBackend, variance),
      rows,
      channels,
    epsilon,
  );
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
  mathFor(wasmBackend).bnReluBackward(
      offsetOf(wasmBackend, dy),
      offsetOf(wasmBackend, x),
      offsetOf(wasmBackend, gamma),
      offsetOf(wasmBackend, output),
      offsetOf(wasmBackend, mean),
      offsetOf(wasmBackend, variance),
      offsetOf(wasmBackend, dx),
      offsetOf(wasmBackend, dgamma),
      offsetOf(wasmBackend, dbeta),
      rows,
      channels,
    epsilon,
  );
  return [dx, dgamma, dbeta];
}

const KERNELS: Array<[string, (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[]]> = [
  ['Conv2DBackpropFilter', conv2DBackpropFilter],
  ['MaxPoolGrad', maxPoolGrad],
  ['Identity', identity],
  [DEPTHWISE_FILTER_GRAD, depthwiseFilterGrad],
  [MATMUL_TRANSPOSE_A, matMulTransposeA],
  [BN_RELU_FORWARD, bnReluForward],
  [BN_RELU_BACKWARD, bnReluBackward],
];

/** Names of the kernels registerWasmKernels() adds or replaces for the wasm backend. */
export const WASM_KERNEL_NAMES: readonly string[] = KERNELS.map(([name]) => name);

/** Idempotent; call before tf.setBackend('wasm'). Replaces stock kernels of the same name. */
export function registerWasmKernels(): void {
  const current = tf.getKernel('MaxPoolGrad', BACKEND);
  if (current !== undefined && current.kernelFunc !== (maxPoolGrad as unknown)) stockMaxPoolGrad = current;
  for (const [kernelName, kernelFunc] of KERNELS) {
    if (tf.getKernel(kernelName, BACKEND)?.kernelFunc === (kernelFunc as unknown)) continue;
    if (tf.getKernel(kernelName, BACKEND) !== undefined) tf.unregisterKernel(kernelName, BACKEND);
    tf.registerKernel({ kernelName, backendName: BACKEND, kernelFunc: kernelFunc as unknown as tf.KernelFunc });
  }
}

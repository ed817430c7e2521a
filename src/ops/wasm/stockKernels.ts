// Replacements for stock tfjs wasm kernels that are missing (Conv2DBackpropFilter) or slow
// (Conv2DBackpropInput and MaxPoolGrad are scalar loops, DepthwiseConv2dNative is memory-bound
// in XNNPACK's loop order, Mean transposes, Identity copies). Each covers the shapes
// DSDC-Net uses with a fast path and hands every other shape back to the stock kernel.
import * as tf from '@tensorflow/tfjs';
import { type KernelArgs, type WasmBackendLike, offsetOf, requireFloat32 } from './heap.js';
import { runFastPath } from './fastPath.js';
import { reducesMiddleAxes } from '../meanGradient.js';
import { mathFor } from './kernelMathChoice.js';
import { KernelError } from '../errors.js';

// Stock wasm kernels we replace but still need for the shapes our fast paths do not cover.
// Their setupFuncs may not have run (we replace them before the backend initialises), so they
// run lazily, once per backend instance.
export const stockKernels = new Map<string, tf.KernelConfig>();
const stockSetUp = new Map<string, WeakSet<object>>();

function runStock(kernelName: string, args: KernelArgs): tf.TensorInfo {
  const stock = stockKernels.get(kernelName);
  if (stock === undefined) throw new KernelError('KERNEL_UNAVAILABLE', `${kernelName} (wasm): this shape needs the stock kernel, which was not registered`);
  const done = stockSetUp.get(kernelName) ?? new WeakSet<object>();
  stockSetUp.set(kernelName, done);
  if (!done.has(args.backend as object)) {
    stock.setupFunc?.(args.backend as tf.KernelBackend);
    done.add(args.backend as object);
  }
  return stock.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
}

function conv2DBackpropInput(args: KernelArgs): tf.TensorInfo {
  const { dy, filter } = args.inputs;
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
  const info = tf.backend_util.computeConv2DInfo(
    inputShape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    tf.backend_util.convertConv2DDataFormat(dataFormat),
  );
  return runFastPath(args, {
    covered: () =>
      dy.dtype === 'float32' && filter.dtype === 'float32' && info.dataFormat === 'channelsLast' && info.inChannels === 1 &&
      info.filterHeight === 3 && info.filterWidth === 3 && info.strideHeight === 1 && info.strideWidth === 1 &&
      info.padInfo.top === 1 && info.padInfo.left === 1 && info.outHeight === info.inHeight && info.outWidth === info.inWidth,
    outShape: info.inShape,
    compute: (math, heap, dx) =>
      math.conv3x3SingleChannelInputGrad(heap(dy), heap(filter), heap(dx), info.batchSize, info.inHeight, info.inWidth, info.outChannels),
    fallback: () => runStock('Conv2DBackpropInput', args),
  });
}

// XNNPACK's depthwise kernel reloads the filter for every pixel and walks all channels per
// pixel; ours keeps the 9 filter vectors of 4 channels in registers along a row.
function depthwiseConv2dNative(args: KernelArgs): tf.TensorInfo {
  const { x, filter } = args.inputs;
  const { strides, pad, dataFormat, dilations, dimRoundingMode } = args.attrs as unknown as tf.DepthwiseConv2dNativeAttrs;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    strides,
    dilations ?? 1,
    pad,
    dimRoundingMode,
    true,
    tf.backend_util.convertConv2DDataFormat(dataFormat),
  );
  const dilation = info.dilationHeight;
  return runFastPath(args, {
    covered: () =>
      x.dtype === 'float32' && filter.dtype === 'float32' && info.dataFormat === 'channelsLast' && info.filterHeight === 3 &&
      info.filterWidth === 3 && filter.shape[3] === 1 && info.strideHeight === 1 && info.strideWidth === 1 &&
      info.dilationWidth === dilation && info.padInfo.top === dilation && info.padInfo.left === dilation &&
      info.outHeight === info.inHeight && info.outWidth === info.inWidth && info.inChannels % 4 === 0,
    outShape: info.outShape,
    compute: (math, heap, y) =>
      math.depthwise3x3Forward(heap(x), heap(filter), heap(y), info.batchSize, info.inHeight, info.inWidth, info.inChannels, dilation),
    fallback: () => runStock('DepthwiseConv2dNative', args),
  });
}

function maxPoolGrad(args: KernelArgs): tf.TensorInfo {
  const { dy, input } = args.inputs;
  const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as tf.MaxPoolGradAttrs;
  const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
  return runFastPath(args, {
    covered: () =>
      input.dtype === 'float32' && dy.dtype === 'float32' && info.filterHeight === 2 && info.filterWidth === 2 &&
      info.strideHeight === 2 && info.strideWidth === 2 && info.padInfo.top === 0 && info.padInfo.left === 0 &&
      info.dilationHeight === 1 && info.dilationWidth === 1,
    outShape: input.shape,
    compute: (math, heap, dx) =>
      math.maxPool2x2Grad(heap(input), heap(dy), heap(dx), info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth),
    fallback: () => runStock('MaxPoolGrad', args),
  });
}

// Global average pooling: the stock Mean transposes the reduced axes to the end (a full copy of
// the tensor) before summing; the mean over the middle axes of NHWC needs no transpose.
function mean(args: KernelArgs): tf.TensorInfo {
  const { x } = args.inputs;
  const { axis, keepDims } = args.attrs as unknown as tf.MeanAttrs;
  const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
  const batch = x.shape[0], channels = x.shape[x.shape.length - 1];
  const rows = x.shape.slice(1, -1).reduce((p, q) => p * q, 1);
  return runFastPath(args, {
    covered: () => x.dtype === 'float32' && reducesMiddleAxes(axes, x.shape.length) && rows > 0,
    outShape: keepDims ? x.shape.map((size, i) => (i === 0 || i === x.shape.length - 1 ? size : 1)) : [batch, channels],
    compute: (math, heap, out) => math.meanOverRows(heap(x), heap(out), batch, rows, channels),
    fallback: () => runStock('Mean', args),
  });
}

function conv2DBackpropFilter({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const wasmBackend = backend as WasmBackendLike;
  const { x, dy } = inputs;
  requireFloat32('Conv2DBackpropFilter', { x, dy });
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  if (tf.backend_util.convertConv2DDataFormat(dataFormat) !== 'channelsLast') {
    throw new KernelError('KERNEL_INPUT', `Conv2DBackpropFilter (wasm): only NHWC is supported, got dataFormat ${dataFormat}`);
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

// The stock wasm Identity copies the data; tfjs tensors are immutable, so sharing the buffer
// under a second reference (as the cpu backend and the wasm Reshape do) is enough. The engine
// clones every tensor a customGrad saves, so this removes a full copy per saved activation.
function identity({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const { x } = inputs;
  (backend as WasmBackendLike).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

export const STOCK_REPLACEMENTS: Array<[string, (args: KernelArgs) => tf.TensorInfo]> = [
  ['Conv2DBackpropFilter', conv2DBackpropFilter],
  ['Conv2DBackpropInput', conv2DBackpropInput],
  ['MaxPoolGrad', maxPoolGrad],
  ['DepthwiseConv2dNative', depthwiseConv2dNative],
  ['Mean', mean],
  ['Identity', identity],
];

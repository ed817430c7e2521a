// Every kernel src/ops/wasm registers for the wasm backend, with each of its implementations
// (the relaxed-SIMD build with fused multiply-adds, the plain SIMD build, the JS loops), against the cpu backend's result for the same op (our
// composite for the Dsdc* kernels, tfjs's kernel for the stock ones) and against direct loops.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchNormReluTraining } from '../../src/ops/batchNormRelu.js';
import { depthwiseFilterGradient } from '../../src/ops/depthwiseDilated.js';
import { matMulTransposeA, pointwiseConv } from '../../src/ops/pointwise.js';
import { WASM_KERNEL_NAMES, activeKernelMath, relaxedSimdSupported, useKernelMath } from '../../src/ops/wasm/registerWasmKernels.js';
import { conv2dFilterGradRef, conv2dInputGradRef, depthwiseDilatedRef, maxPool2x2GradRef, pointwiseRef } from './reference.js';
import { relativeError, seeded, useBackend } from './helpers.js';

interface KernelCase {
  name: string;
  /** Outputs of the op under test on the active backend. */
  run: () => Float32Array[];
  /** Optional direct-loop reference for the outputs. */
  reference?: () => ArrayLike<number>[];
}

const t2 = (seed: number, shape: [number, number]) => tf.tensor2d(seeded(seed, shape[0] * shape[1]), shape);
const t4 = (seed: number, shape: [number, number, number, number], low = -1, high = 1) => tf.tensor4d(seeded(seed, shape.reduce((a, b) => a * b), low, high), shape);
const data = (ts: tf.Tensor[]) => ts.map((t) => t.dataSync() as Float32Array);

function convFilterGradCase(xShape: [number, number, number, number], filterShape: [number, number, number, number], stride: number, pad: 'same' | 'valid'): KernelCase {
  const [b, h, w, cin] = xShape;
  const cout = filterShape[3];
  const info = tf.backend_util.computeConv2DInfo(xShape, filterShape, stride, 1, pad);
  const dyShape: [number, number, number, number] = [b, info.outHeight, info.outWidth, cout];
  return {
    name: `Conv2DBackpropFilter x[${xShape}] filter[${filterShape}] stride ${stride} ${pad}`,
    run: () => tf.tidy(() => data([tf.grad((f: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(t4(1, xShape), f as tf.Tensor4D, stride, pad), t4(2, dyShape))))(t4(3, filterShape))])),
    reference: () => [
      conv2dFilterGradRef(seeded(1, b * h * w * cin), { batch: b, height: h, width: w, channels: cin }, seeded(2, dyShape.reduce((p, q) => p * q)), { batch: b, height: dyShape[1], width: dyShape[2], channels: cout }, filterShape[0], filterShape[1], stride, info.padInfo.top, info.padInfo.left),
    ],
  };
}

function convInputGradCase(xShape: [number, number, number, number], filterShape: [number, number, number, number], stride: number, pad: 'same' | 'valid'): KernelCase {
  const [b, h, w, cin] = xShape;
  const cout = filterShape[3];
  const info = tf.backend_util.computeConv2DInfo(xShape, filterShape, stride, 1, pad);
  const dyShape: [number, number, number, number] = [b, info.outHeight, info.outWidth, cout];
  return {
    name: `Conv2DBackpropInput x[${xShape}] filter[${filterShape}] stride ${stride} ${pad}`,
    run: () => tf.tidy(() => data([tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x as tf.Tensor4D, t4(4, filterShape), stride, pad), t4(5, dyShape))))(t4(6, xShape))])),
    reference:
      stride === 1
        ? () => [conv2dInputGradRef(seeded(5, dyShape.reduce((p, q) => p * q)), { batch: b, height: dyShape[1], width: dyShape[2], channels: cout }, seeded(4, filterShape.reduce((p, q) => p * q)), filterShape[0], filterShape[1], { batch: b, height: h, width: w, channels: cin }, info.padInfo.top, info.padInfo.left)]
        : undefined,
  };
}

function maxPoolGradCase(xShape: [number, number, number, number], size: number, stride: number, ties: boolean): KernelCase {
  const [b, h, w, c] = xShape;
  const info = tf.backend_util.computePool2DInfo(xShape, size, stride, 1, 'valid');
  const dyShape: [number, number, number, number] = [b, info.outHeight, info.outWidth, c];
  // On a coarse grid windows hold ties, and the first maximum must win as on the cpu backend.
  // (The stock wasm kernel, used for other pool shapes, breaks ties differently.)
  const x = seeded(7, b * h * w * c).map((v) => (ties ? Math.round(v * 3) : v));
  return {
    name: `MaxPoolGrad x[${xShape}] ${size}×${size} stride ${stride}${ties ? ' (with ties)' : ''}`,
    run: () => tf.tidy(() => data([tf.grad((xt: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(xt as tf.Tensor4D, size, stride, 'valid'), t4(8, dyShape))))(tf.tensor4d(x, xShape))])),
    reference: size === 2 && stride === 2 ? () => [maxPool2x2GradRef(x, { batch: b, height: h, width: w, channels: c }, seeded(8, dyShape.reduce((p, q) => p * q)))] : undefined,
  };
}

function depthwiseForwardCase(xShape: [number, number, number, number], k: number, stride: number, d: number): KernelCase {
  const [b, h, w, c] = xShape;
  return {
    name: `DepthwiseConv2dNative x[${xShape}] ${k}×${k} stride ${stride} dilation ${d}`,
    run: () => tf.tidy(() => data([tf.depthwiseConv2d(t4(21, xShape), t4(22, [k, k, c, 1]), stride, 'same', 'NHWC', d)])),
    reference:
      stride === 1
        ? () => [depthwiseDilatedRef(seeded(21, b * h * w * c), { batch: b, height: h, width: w, channels: c }, seeded(22, k * k * c), k, d)]
        : undefined,
  };
}

function bnCase(shape: [number, number, number, number]): KernelCase {
  const c = shape[3];
  return {
    name: `DsdcBatchNormReluForward/Backward [${shape}]`,
    run: () =>
      tf.tidy(() => {
        const x = t4(9, shape, -1, 3), gamma = tf.tensor1d(seeded(10, c, 0.5, 1.5)), beta = tf.tensor1d(seeded(11, c, -0.3, 0.3));
        const r = batchNormReluTraining(x, gamma, beta, 1e-3);
        const forward = data([r.output, r.mean, r.variance]);
        const grads = tf.grads((xt: tf.Tensor, gt: tf.Tensor, bt: tf.Tensor) => {
          const q = batchNormReluTraining(xt as tf.Tensor4D, gt as tf.Tensor1D, bt as tf.Tensor1D, 1e-3);
          q.mean.dispose();
          q.variance.dispose();
          return tf.sum(tf.mul(q.output, t4(12, shape)));
        })([x, gamma, beta]);
        return [...forward, ...data(grads)];
      }),
  };
}

// Batch norm + ReLU right after a pointwise convolution: on wasm its backward and the
// convolution's run as one kernel (DsdcBatchNormReluPointwiseBackward); the cpu backend has no
// such kernel and runs the two ops' own gradients, the reference here.
function bnAfterPointwiseCase(shape: [number, number, number, number], outChannels: number): KernelCase {
  const [b, h, w, cin] = shape;
  return {
    name: `DsdcBatchNormReluPointwiseBackward x[${shape}] → ${outChannels}`,
    run: () =>
      tf.tidy(() => {
        const x = t4(30, shape), kernel = t4(31, [1, 1, cin, outChannels], -0.5, 0.5);
        const gamma = tf.tensor1d(seeded(32, outChannels, 0.5, 1.5)), beta = tf.tensor1d(seeded(33, outChannels, -0.3, 0.3));
        const upstream = t4(34, [b, h, w, outChannels]);
        const grads = tf.grads((xt: tf.Tensor, kt: tf.Tensor, gt: tf.Tensor, bt: tf.Tensor) => {
          const q = batchNormReluTraining(pointwiseConv(xt as tf.Tensor4D, kt as tf.Tensor4D), gt as tf.Tensor1D, bt as tf.Tensor1D, 1e-3);
          q.mean.dispose();
          q.variance.dispose();
          return tf.sum(tf.mul(q.output, upstream));
        })([x, kernel, gamma, beta]);
        return data(grads);
      }),
  };
}

const cases: KernelCase[] = [
  bnAfterPointwiseCase([2, 5, 7, 16], 32),
  bnAfterPointwiseCase([2, 4, 5, 12], 8),
  {
    name: 'DsdcDepthwiseConv2dDilatedBackpropFilter [2,7,6,8] d=2',
    run: () => tf.tidy(() => data([depthwiseFilterGradient(t4(13, [2, 7, 6, 8]), t4(14, [2, 7, 6, 8]), 3, 2)])),
  },
  // Dilations about the image's size: rows and columns where both, one or neither side tap exists.
  ...([[2, 5, 3, 4, 2], [1, 4, 6, 8, 3], [2, 3, 3, 4, 4]] as const).map(([b, h, w, c, d], i) => ({
    name: `DsdcDepthwiseConv2dDilatedBackpropFilter [${b},${h},${w},${c}] d=${d} (taps missing on both sides)`,
    run: () => tf.tidy(() => data([depthwiseFilterGradient(t4(40 + i, [b, h, w, c]), t4(50 + i, [b, h, w, c]), 3, d)])),
  })),
  {
    name: 'DsdcDepthwiseConv2dDilatedBackpropFilter [2,5,5,6] d=1 (channels not a multiple of 4)',
    run: () => tf.tidy(() => data([depthwiseFilterGradient(t4(15, [2, 5, 5, 6]), t4(16, [2, 5, 5, 6]), 3, 1)])),
  },
  {
    name: 'DsdcMatMul via pointwiseConv [2,5,7,12] → 32 (odd row count)',
    run: () => tf.tidy(() => data([pointwiseConv(t4(23, [2, 5, 7, 12]), t4(24, [1, 1, 12, 32]))])),
    reference: () => [pointwiseRef(seeded(23, 2 * 5 * 7 * 12), 70, 12, seeded(24, 12 * 32), 32)],
  },
  {
    name: 'DsdcMatMul via pointwiseConv [2,4,4,8] → 10 (stock BatchMatMul)',
    run: () => tf.tidy(() => data([pointwiseConv(t4(25, [2, 4, 4, 8]), t4(26, [1, 1, 8, 10]))])),
    reference: () => [pointwiseRef(seeded(25, 2 * 4 * 4 * 8), 32, 8, seeded(26, 8 * 10), 10)],
  },
  { name: 'DsdcMatMulTransposeA [200,12]ᵀ·[200,16]', run: () => tf.tidy(() => data([matMulTransposeA(tf.tensor2d(seeded(17, 2400), [200, 12]), tf.tensor2d(seeded(18, 3200), [200, 16]))])) },
  { name: 'DsdcMatMulTransposeA [50,6]ᵀ·[50,10] (odd sizes)', run: () => tf.tidy(() => data([matMulTransposeA(tf.tensor2d(seeded(19, 300), [50, 6]), tf.tensor2d(seeded(20, 500), [50, 10]))])) },
  bnCase([2, 5, 6, 8]),
  bnCase([2, 3, 3, 6]),
  convFilterGradCase([2, 9, 8, 1], [3, 3, 1, 8], 1, 'same'),
  convFilterGradCase([2, 9, 8, 1], [3, 3, 1, 8], 1, 'valid'),
  convFilterGradCase([2, 7, 6, 3], [3, 3, 3, 4], 2, 'same'),
  convInputGradCase([2, 9, 8, 1], [3, 3, 1, 8], 1, 'same'),
  convInputGradCase([2, 7, 6, 3], [3, 3, 3, 4], 1, 'valid'),
  convInputGradCase([2, 7, 6, 1], [3, 3, 1, 8], 2, 'same'),
  depthwiseForwardCase([2, 7, 6, 8], 3, 1, 1),
  depthwiseForwardCase([2, 8, 9, 4], 3, 1, 3),
  depthwiseForwardCase([2, 7, 6, 6], 3, 1, 2),
  depthwiseForwardCase([2, 7, 6, 8], 5, 1, 1),
  depthwiseForwardCase([2, 7, 6, 8], 3, 2, 1),
  depthwiseForwardCase([2, 5, 3, 4], 3, 1, 2),
  depthwiseForwardCase([1, 4, 6, 8], 3, 1, 3),
  depthwiseForwardCase([2, 3, 3, 4], 3, 1, 4),
  // Global average pooling (the fast path), and reductions it leaves to the stock Mean.
  ...([
    [[3, 5, 7, 16], [1, 2], false],
    [[2, 4, 3, 6], [-3, -2], true],
    [[2, 1, 1, 8], [2, 1], false],
    [[2, 3, 4, 8], [3], false],
    [[2, 3, 4, 8], [0, 1, 2], true],
    [[3, 7, 8], [1], true],
    [[2, 3, 2, 2, 8], [1, 2, 3], false],
    [[2, 3, 2, 2, 8], [1, 2], false],
  ] as const).map(([shape, axes, keepDims], i) => ({
    name: `Mean x[${shape}] over [${axes}]${keepDims ? ' keepDims' : ''}`,
    run: () => tf.tidy(() => data([tf.mean(tf.tensor(seeded(60 + i, shape.reduce((p: number, q: number) => p * q, 1)), [...shape]), [...axes], keepDims)])),
  })),
  // Its gradient: DsdcSpreadOverRows (channels a multiple of 4, and not).
  ...([[3, 5, 7, 16], [2, 4, 3, 6]] as const).map((shape, i) => ({
    name: `DsdcSpreadOverRows: the gradient of Mean x[${shape}] over [1,2]`,
    run: () => tf.tidy(() => data([tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.mean(x, [1, 2]), t2(70 + i, [shape[0], shape[3]]))))(t4(65 + i, [...shape]))])),
  })),
  maxPoolGradCase([2, 6, 8, 8], 2, 2, true),
  maxPoolGradCase([2, 7, 5, 6], 2, 2, true),
  maxPoolGradCase([1, 7, 7, 4], 3, 2, false),
];

describe('wasm kernels', () => {
  const expected = new Map<string, Float32Array[]>();

  beforeAll(async () => {
    await useBackend('cpu');
    for (const c of cases) expected.set(c.name, c.run());
    await useBackend('wasm');
  });
  afterAll(() => useKernelMath('auto'));

  it('registers every kernel for wasm and loads the relaxed-SIMD build (initBackend turns relaxed SIMD on)', () => {
    for (const name of WASM_KERNEL_NAMES) expect(tf.getKernel(name, 'wasm'), name).toBeDefined();
    expect(relaxedSimdSupported()).toBe(true);
    expect(activeKernelMath()).toBe('fma');
  });

  describe.each(['fma', 'simd', 'js'] as const)('with the %s implementation', (math) => {
    it.each(cases.map((c) => [c.name, c] as const))('%s equals the cpu backend and the reference', (_, c) => {
      useKernelMath(math);
      const got = c.run();
      const cpu = expected.get(c.name)!;
      expect(got.length).toBe(cpu.length);
      got.forEach((g, i) => expect(relativeError(g, cpu[i]), `output ${i}`).toBeLessThan(2e-5));
      c.reference?.().forEach((r, i) => expect(relativeError(got[i], r), `output ${i} vs reference`).toBeLessThan(2e-5));
    });
  });

  // The batch norm after a pointwise convolution takes the column moments the product made
  // (DsdcMatMul with columnMoments): bit for bit what its own pass over the data gives. A copy of
  // the product (new data, no moments) takes that pass.
  it.each(['fma', 'simd', 'js'] as const)('batch norm after pointwiseConv: the moments from the product equal its own pass bit for bit (%s)', (math) => {
    useKernelMath(math);
    for (const [shape, outChannels] of [[[2, 9, 8, 16], 32], [[3, 5, 7, 32], 64], [[1, 30, 3, 16], 16]] as const) {
      const [withMoments, ownPass] = tf.tidy(() => {
        const z = pointwiseConv(t4(80, [...shape]), t4(81, [1, 1, shape[3], outChannels]));
        const copy = tf.add(z, 0) as tf.Tensor4D;
        const gamma = tf.tensor1d(seeded(82, outChannels, 0.5, 1.5)), beta = tf.tensor1d(seeded(83, outChannels, -0.3, 0.3));
        const run = (x: tf.Tensor4D) => {
          const r = batchNormReluTraining(x, gamma, beta, 1e-3);
          return data([r.output, r.mean, r.variance]);
        };
        return [run(z), run(copy)];
      });
      withMoments.forEach((values, i) => expect(Array.from(values), `output ${i} of [${shape}] → ${outChannels}`).toEqual(Array.from(ownPass[i])));
    }
  });

  it('Identity shares the buffer and keeps it alive until the last reference is disposed', () => {
    const x = tf.tensor1d([1, 2, 3]);
    const copy = x.clone();
    const bytesAfterClone = tf.memory().numBytes;
    x.dispose();
    expect(Array.from(copy.dataSync())).toEqual([1, 2, 3]);
    copy.dispose();
    expect(tf.memory().numBytes).toBe(bytesAfterClone - 2 * 12);
  });
});

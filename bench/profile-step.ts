// Times one full training step (computeGradients + dispose) of the default DSDC-Net on one
// process and prints a per-kernel profile. Run: npx tsx bench/profile-step.ts [flags]
//   --backend wasm|cpu|auto   (default wasm)
//   --kernels auto|fma|simd|js|none
//                             our wasm kernels: what --backend wasm picks (auto), the relaxed-SIMD
//                             build (fma), the plain SIMD build, JS loops, or none (stock kernels and
//                             our ops' composites; Conv2DBackpropFilter stays, stock wasm has none).
//                             fma-unfused (simd-unfused, …): without the kernel that fuses batch
//                             norm's backward with the pointwise convolution's.
//                             A list (none,simd,fma) interleaves the sets step by step, so that a
//                             busy machine slows them alike.
// Each step's rate is also given in GFLOP/s (src/model/flops.ts) and as a fraction of this core's
// wasm SIMD peak, measured first (bench/peak; --no-peak skips it).
//   --batches 64,128  --steps 10  --warmup 3  --profile-top 25  --no-profile
//   --kernel-table            instead: our wasm kernels (in each of --kernels' sets but none)
//                             against the stock ones they replace, per DSDC-Net shape at batch 64,
//                             best of 20 interleaved runs
import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendChoice } from '../src/backend/index.js';
import { buildDsdcNet } from '../src/model/index.js';
import { computeGradients } from '../src/training/replica/gradientStep.js';
import { trainableVariables } from '../src/training/replica/variables.js';
import { type KernelMathChoice, registerWasmKernels, useKernelMath } from '../src/ops/wasm/registerWasmKernels.js';
import { BN_RELU_BACKWARD, BN_RELU_FORWARD, BN_RELU_POINTWISE_BACKWARD } from '../src/ops/batchNormRelu.js';
import { DEPTHWISE_FILTER_GRAD } from '../src/ops/depthwiseDilated.js';
import { MATMUL, MATMUL_TRANSPOSE_A } from '../src/ops/pointwise.js';
import { runKernel } from '../src/ops/kernelRegistry.js';
import { stockKernels } from '../src/ops/wasm/stockKernels.js';
import { DEFAULT_MODEL_SPEC } from '../src/model/index.js';
import { trainingStepFlops } from '../src/model/flops.js';
import { measurePeaks, peakByArithmetic } from './peak/measurePeak.js';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const backendChoice = flag('backend', 'wasm') as BackendChoice;
const kernelSets = flag('kernels', 'auto').split(',');
const batches = flag('batches', '64,128').split(',').map(Number);
const steps = Number(flag('steps', '10'));
const warmup = Number(flag('warmup', '3'));
const profileTop = Number(flag('profile-top', '25'));
const profile = !process.argv.includes('--no-profile');

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Switches the wasm backend between our kernels (SIMD or JS arithmetic) and the stock ones. */
function useKernelSet(set: string): void {
  if (tf.getBackend() !== 'wasm') return;
  if (set === 'none') {
    for (const name of [DEPTHWISE_FILTER_GRAD, MATMUL, MATMUL_TRANSPOSE_A, BN_RELU_FORWARD, BN_RELU_BACKWARD, BN_RELU_POINTWISE_BACKWARD]) {
      if (tf.getKernel(name, 'wasm') !== undefined) tf.unregisterKernel(name, 'wasm');
    }
    for (const [name, stock] of stockKernels) {
      if (tf.getKernel(name, 'wasm')?.kernelFunc === stock.kernelFunc) continue;
      tf.unregisterKernel(name, 'wasm');
      tf.registerKernel(stock);
      stock.setupFunc?.(tf.backend());
    }
  } else {
    registerWasmKernels();
    const [math, unfused] = set.split('-');
    useKernelMath(math as KernelMathChoice);
    // X-unfused: batch norm's backward and the pointwise convolution's as separate kernels.
    if (unfused === 'unfused') tf.unregisterKernel(BN_RELU_POINTWISE_BACKWARD, 'wasm');
  }
}

async function main(): Promise<void> {
  const info = await initBackend(backendChoice);
  console.log(`backend ${info.backend}: ${info.device}; kernel sets ${kernelSets.join(', ')}; node ${process.version}`);
  if (process.argv.includes('--kernel-table')) return kernelTable();
  const peaks = process.argv.includes('--no-peak') ? new Map<string, number>() : new Map([...peakByArithmetic(measurePeaks())].map(([a, r]) => [a, r.gflops]));
  for (const [arithmetic, gflops] of peaks) console.log(`wasm SIMD peak of one core with ${arithmetic}: ${gflops.toFixed(1)} GFLOP/s`);
  const ofPeak = (gflops: number) => [...peaks].map(([a, peak]) => `${((100 * gflops) / peak).toFixed(0)}% of the ${a} peak`).join(', ');
  const model = buildDsdcNet();
  const trainable = trainableVariables(model);

  for (const batch of batches) {
    const x = tf.randomUniform([batch, 28, 28, 1]) as tf.Tensor4D;
    const y = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 10), 'int32'), 10) as tf.Tensor2D;
    const step = () => {
      const result = computeGradients(model, trainable, x, y);
      result.loss.dataSync();
      tf.dispose([result.loss, result.correct, ...result.gradients.values()]);
    };
    const times = new Map(kernelSets.map((set) => [set, [] as number[]]));
    const tensorsBefore = new Map<string, number>();
    for (const set of kernelSets) {
      useKernelSet(set);
      for (let i = 0; i < warmup; i++) step();
      tensorsBefore.set(set, tf.memory().numTensors);
    }
    for (let i = 0; i < steps; i++) {
      for (const set of kernelSets) {
        useKernelSet(set);
        const t0 = performance.now();
        step();
        times.get(set)!.push(performance.now() - t0);
      }
    }
    for (const set of kernelSets) {
      const t = times.get(set)!;
      const ms = median(t);
      const gflops = trainingStepFlops(DEFAULT_MODEL_SPEC, batch).total / (ms * 1e6);
      console.log(
        `batch ${batch}, kernels ${set}: median ${ms.toFixed(1)} ms/step (min ${Math.min(...t).toFixed(1)}, max ${Math.max(...t).toFixed(1)}) ` +
          `= ${((batch * 1000) / ms).toFixed(1)} images/s (best step ${((batch * 1000) / Math.min(...t)).toFixed(1)}); ` +
          `${gflops.toFixed(1)} GFLOP/s${peaks.size > 0 ? ` (${ofPeak(gflops)})` : ''}; tensors ${tensorsBefore.get(set)} -> ${tf.memory().numTensors}`,
      );
    }
    if (profile) {
      for (const set of kernelSets) {
        useKernelSet(set);
        console.log(`\nkernels ${set}:`);
        await printProfile(step, batch);
      }
    }
    tf.dispose([x, y]);
  }
}

async function printProfile(step: () => void, batch: number): Promise<void> {
  const t0 = performance.now();
  const result = await tf.profile(step);
  const wall = performance.now() - t0;
  // customGrad and op scopes appear as pseudo-kernels whose time includes their inner kernels.
  const kernelsOnly = result.kernels.filter((k) => !/__op$|^unnamed scope$/.test(k.name));
  const byKernel = new Map<string, { ms: number; calls: number }>();
  for (const k of kernelsOnly) {
    const key = `${k.name} ${k.inputShapes.map((s) => `[${s}]`).join(' ')}`;
    const entry = byKernel.get(key) ?? { ms: 0, calls: 0 };
    entry.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    entry.calls += 1;
    byKernel.set(key, entry);
  }
  const byName = new Map<string, number>();
  for (const k of kernelsOnly) byName.set(k.name, (byName.get(k.name) ?? 0) + (typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0));
  const total = [...byName.values()].reduce((a, b) => a + b, 0);
  console.log(`\nprofile, batch ${batch}: ${kernelsOnly.length} kernel calls, ${total.toFixed(1)} ms in kernels, ${wall.toFixed(1)} ms wall (profiling adds overhead)`);
  console.log('| kernel | ms | share |\n|---|---:|---:|');
  for (const [name, ms] of [...byName].sort((a, b) => b[1] - a[1]).slice(0, profileTop)) {
    console.log(`| ${name} | ${ms.toFixed(1)} | ${((100 * ms) / total).toFixed(1)}% |`);
  }
  console.log(`\ntop kernel calls by input shapes, batch ${batch}:`);
  console.log('| kernel and input shapes | calls | ms |\n|---|---:|---:|');
  for (const [key, e] of [...byKernel].sort((a, b) => b[1].ms - a[1].ms).slice(0, profileTop)) {
    console.log(`| ${key} | ${e.calls} | ${e.ms.toFixed(1)} |`);
  }
  console.log();
}

/** Best-of-N times of our kernels against the stock kernels they replace, interleaved. */
function kernelTable(): void {
  const backend = tf.backend() as unknown as Record<string, unknown>;
  const best = new Map<string, number>();
  const time = (key: string, f: () => tf.Tensor | tf.Tensor[]) => {
    const t0 = performance.now();
    const out = f();
    const ms = performance.now() - t0;
    tf.dispose(out);
    best.set(key, Math.min(best.get(key) ?? Infinity, ms));
  };
  const oursSets = kernelSets.filter((set) => set !== 'none');
  const ours = (key: string, f: () => tf.Tensor | tf.Tensor[]) => {
    for (const set of oursSets) {
      useKernelMath(set as KernelMathChoice);
      time(`${key} (${set})`, f);
    }
  };
  const stock = (name: string, inputs: tf.NamedTensorMap, attrs: Record<string, unknown>) => () => {
    const config = stockKernels.get(name)!;
    config.setupFunc?.(backend as unknown as tf.KernelBackend);
    const info = config.kernelFunc({ inputs, backend, attrs } as unknown as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    return tf.engine().makeTensorFromTensorInfo(info);
  };
  const matmuls = [[50176, 32, 64], [50176, 64, 32], [50176, 64, 64], [12544, 64, 128], [12544, 128, 64], [12544, 128, 128]];
  const depthwise: Array<[number, number, number, number]> = [[28, 28, 32, 1], [28, 28, 64, 2], [14, 14, 64, 2], [14, 14, 128, 4]];
  const tensors = new Map<string, tf.Tensor>();
  const t = (key: string, shape: number[]) => tensors.get(key) ?? tensors.set(key, tf.randomNormal(shape)).get(key)!;
  for (let rep = 0; rep < 20; rep++) {
    for (const [m, k, n] of matmuls) {
      const a = t(`a${m}x${k}`, [m, k]), b = t(`b${k}x${n}`, [k, n]), c = t(`c${m}x${n}`, [m, n]);
      time(`matmul ${m}×${k}·${k}×${n}|XNNPACK tf.matMul`, () => tf.matMul(a, b));
      ours(`matmul ${m}×${k}·${k}×${n}|${MATMUL}`, () => runKernel(MATMUL, { a, b }));
      time(`dW ${m}×${k}ᵀ·${m}×${n}|stock tf.matMul(a, b, true)`, () => tf.matMul(a, c, true, false));
      ours(`dW ${m}×${k}ᵀ·${m}×${n}|${MATMUL_TRANSPOSE_A}`, () => runKernel(MATMUL_TRANSPOSE_A, { a, b: c }));
    }
    for (const [h, w, c, d] of depthwise) {
      const x = t(`x${h}x${c}`, [64, h, w, c]), f = t(`f${c}`, [3, 3, c, 1]);
      const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: d, dimRoundingMode: undefined };
      time(`depthwise [64,${h},${w},${c}] d=${d}|XNNPACK DepthwiseConv2dNative`, stock('DepthwiseConv2dNative', { x, filter: f }, attrs));
      ours(`depthwise [64,${h},${w},${c}] d=${d}|ours`, () => runKernel('DepthwiseConv2dNative', { x, filter: f }, attrs));
      ours(`depthwise dW [64,${h},${w},${c}] d=${d}|${DEPTHWISE_FILTER_GRAD}`, () => runKernel(DEPTHWISE_FILTER_GRAD, { x, dy: x }, { kernelSize: 3, dilation: d }));
    }
    for (const [h, c] of [[28, 32], [28, 64], [14, 128]]) {
      const x = t(`x${h}x${c}`, [64, h, h, c]), gamma = t(`g${c}`, [c]), beta = t(`be${c}`, [c]);
      ours(`BN+ReLU forward [64,${h},${h},${c}]|${BN_RELU_FORWARD}`, () => runKernel(BN_RELU_FORWARD, { x, gamma, beta }, { epsilon: 1e-3 }) as unknown as tf.Tensor[]);
      const mean = t(`m${c}`, [c]), variance = tensors.get(`v${c}`) ?? tensors.set(`v${c}`, tf.randomUniform([c], 0.5, 2)).get(`v${c}`)!;
      ours(`BN+ReLU backward [64,${h},${h},${c}]|${BN_RELU_BACKWARD}`, () => runKernel(BN_RELU_BACKWARD, { dy: x, x, gamma, output: x, mean, variance }, { epsilon: 1e-3 }) as unknown as tf.Tensor[]);
    }
    // The backward of each block's pointwise convolution and the batch norm after it: one fused
    // kernel against the three it replaces (batch norm's dx written out, then dX and dW from it).
    for (const [h, cin, c] of [[28, 32, 64], [28, 64, 64], [14, 64, 128], [14, 128, 128]]) {
      const rows = 64 * h * h;
      const x = t(`x${h}x${c}`, [64, h, h, c]), gamma = t(`g${c}`, [c]), mean = t(`m${c}`, [c]);
      const variance = tensors.get(`v${c}`) ?? tensors.set(`v${c}`, tf.randomUniform([c], 0.5, 2)).get(`v${c}`)!;
      const a = t(`a${rows}x${cin}`, [rows, cin]), wT = t(`wT${c}x${cin}`, [c, cin]);
      const bn = { dy: x, x, gamma, output: x, mean, variance };
      const shape = `[${rows},${cin}]·[${cin},${c}] + BN+ReLU`;
      ours(`backward ${shape}|${BN_RELU_POINTWISE_BACKWARD}`, () => runKernel(BN_RELU_POINTWISE_BACKWARD, { ...bn, a, wT }, { epsilon: 1e-3 }) as unknown as tf.Tensor[]);
      ours(`backward ${shape}|${BN_RELU_BACKWARD} + ${MATMUL} + ${MATMUL_TRANSPOSE_A}`, () => {
        const [dx, dGamma, dBeta] = runKernel(BN_RELU_BACKWARD, bn, { epsilon: 1e-3 }) as unknown as tf.Tensor[];
        const flat = tf.reshape(dx, [rows, c]);
        return [dx, flat, dGamma, dBeta, runKernel(MATMUL, { a: flat, b: wT }), runKernel(MATMUL_TRANSPOSE_A, { a, b: flat })];
      });
    }
    const pooled = t('pool', [64, 28, 28, 64]), pooledDy = t('poolDy', [64, 14, 14, 64]);
    const poolAttrs = { filterSize: 2, strides: 2, pad: 'valid', dimRoundingMode: undefined };
    time('MaxPoolGrad [64,28,28,64] 2×2|stock', stock('MaxPoolGrad', { dy: pooledDy, input: pooled, output: pooledDy }, poolAttrs));
    ours('MaxPoolGrad [64,28,28,64] 2×2|ours', () => runKernel('MaxPoolGrad', { dy: pooledDy, input: pooled, output: pooledDy }, poolAttrs));
    const stem = t('stem', [64, 28, 28, 32]), stemFilter = t('stemFilter', [3, 3, 1, 32]);
    const convAttrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', dimRoundingMode: undefined, inputShape: [64, 28, 28, 1] };
    time('Conv2DBackpropInput stem|stock', stock('Conv2DBackpropInput', { dy: stem, filter: stemFilter }, convAttrs));
    ours('Conv2DBackpropInput stem|ours', () => runKernel('Conv2DBackpropInput', { dy: stem, filter: stemFilter }, convAttrs));
  }
  console.log('| kernel, batch 64 | implementation | best ms |\n|---|---|---:|');
  for (const [key, ms] of best) {
    const [what, how] = key.split('|');
    console.log(`| ${what} | ${how} | ${ms.toFixed(2)} |`);
  }
  tf.dispose([...tensors.values()]);
}

await main();

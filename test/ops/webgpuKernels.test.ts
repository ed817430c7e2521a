// Every kernel a DSDC-Net training step runs on webgpu (ours from src/ops/webgpu and the stock
// ones of tfjs-backend-webgpu the step uses), against the cpu backend on the same inputs: odd and
// even sizes, dilations 1 to 4, batch 1 and 3. The table of maximum errors per kernel is printed,
// and written to $DSDC_KERNEL_TABLE when set.
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { batchNormReluTraining } from '../../src/ops/batchNormRelu.js';
import { depthwiseConv2dDilated, depthwiseFilterGradient } from '../../src/ops/depthwiseDilated.js';
import { matMulTransposeA, pointwiseConv } from '../../src/ops/pointwise.js';
import { WEBGPU_KERNEL_NAMES } from '../../src/ops/webgpu/registerWebGpuKernels.js';
import { startWebGpu } from '../backend/webgpuAvailability.js';
import { seeded } from './helpers.js';

const gpu = await startWebGpu();
const TOLERANCE = { abs: 1e-4, rel: 1e-5 };

type Shape4 = [number, number, number, number];
const t4 = (seed: number, shape: Shape4, low = -1, high = 1) => tf.tensor4d(seeded(seed, shape.reduce((a, b) => a * b), low, high), shape);
const t1 = (seed: number, n: number, low = -1, high = 1) => tf.tensor1d(seeded(seed, n, low, high));

interface KernelCase {
  kernel: string;
  shapes: string;
  /** The op under test on the active backend; returns the outputs to compare. */
  run: () => tf.Tensor[];
}

const rows: Array<{ kernel: string; shapes: string; abs: number; rel: number }> = [];

async function onBackend(name: 'cpu' | 'webgpu', c: KernelCase): Promise<Float32Array[]> {
  await tf.setBackend(name);
  const outputs = tf.tidy(c.run);
  const data = await Promise.all(outputs.map(async (t) => (await t.data()) as Float32Array));
  tf.dispose(outputs);
  return data;
}

function compare(gpuValues: Float32Array[], cpuValues: Float32Array[]): { abs: number; rel: number } {
  let abs = 0, rel = 0;
  gpuValues.forEach((g, o) => {
    const c = cpuValues[o];
    expect(g.length).toBe(c.length);
    const scale = Math.max(1e-3, ...Array.from(c, Math.abs));
    for (let i = 0; i < g.length; i++) {
      const e = Math.abs(g[i] - c[i]);
      abs = Math.max(abs, e);
      rel = Math.max(rel, e / scale);
    }
  });
  return { abs, rel };
}

const SPATIAL: Shape4[] = [[1, 5, 7, 3], [3, 8, 6, 4]];
const cases: KernelCase[] = [];
for (const s of SPATIAL) {
  for (const d of [1, 2, 3, 4]) {
    cases.push({ kernel: 'DsdcDepthwiseConv2dDilatedBackpropFilter', shapes: `x[${s}] k3 d${d}`, run: () => [depthwiseFilterGradient(t4(1, s), t4(2, s), 3, d)] });
    cases.push({ kernel: 'DepthwiseConv2dNative (forward, dilated)', shapes: `x[${s}] k3 d${d}`, run: () => [depthwiseConv2dDilated(t4(3, s), t4(4, [3, 3, s[3], 1]), d)] });
    cases.push({
      kernel: 'Reverse + DepthwiseConv2dNative (dX, dilated)',
      shapes: `x[${s}] k3 d${d}`,
      run: () => [tf.grad((x: tf.Tensor) => tf.sum(tf.mul(depthwiseConv2dDilated(x as tf.Tensor4D, t4(5, [3, 3, s[3], 1]), d), t4(6, s))))(t4(7, s))],
    });
  }
  cases.push({ kernel: 'DsdcDepthwiseConv2dDilatedBackpropFilter', shapes: `x[${s}] k5 d2`, run: () => [depthwiseFilterGradient(t4(8, s), t4(9, s), 5, 2)] });
  cases.push({
    kernel: 'DsdcBatchNormReluForward',
    shapes: `x[${s}]`,
    run: () => {
      const { output, mean, variance } = batchNormReluTraining(t4(10, s, 2, 5), t1(11, s[3], 0.5, 1.5), t1(12, s[3]), 1e-3);
      return [output, mean, variance];
    },
  });
  cases.push({
    kernel: 'DsdcBatchNormReluBackward',
    shapes: `x[${s}]`,
    run: () => {
      const f = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(batchNormReluTraining(x as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D, 1e-3).output, t4(13, s)));
      return tf.grads(f)([t4(14, s), t1(15, s[3], 0.5, 1.5), t1(16, s[3])]);
    },
  });
  const rowsOf = s[0] * s[1] * s[2];
  cases.push({
    kernel: 'DsdcMatMulTransposeA',
    shapes: `a[${rowsOf},${s[3]}] b[${rowsOf},5]`,
    run: () => [matMulTransposeA(tf.tensor2d(seeded(17, rowsOf * s[3]), [rowsOf, s[3]]), tf.tensor2d(seeded(18, rowsOf * 5), [rowsOf, 5]))],
  });
  cases.push({
    kernel: 'BatchMatMul (pointwise forward and dX)',
    shapes: `x[${s}] w[1,1,${s[3]},6]`,
    run: () => {
      const w = t4(19, [1, 1, s[3], 6]);
      const f = (x: tf.Tensor) => tf.sum(tf.mul(pointwiseConv(x as tf.Tensor4D, w), t4(20, [s[0], s[1], s[2], 6])));
      return [pointwiseConv(t4(21, s), w), tf.grad(f)(t4(21, s))];
    },
  });
  cases.push({
    kernel: 'Conv2D + Conv2DBackpropFilter (stem)',
    shapes: `x[${[s[0], s[1], s[2], 1]}] w[3,3,1,4]`,
    run: () => {
      const x = t4(22, [s[0], s[1], s[2], 1]);
      const f = (w: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, w as tf.Tensor4D, 1, 'same'), t4(23, [s[0], s[1], s[2], 4])));
      return [tf.conv2d(x, t4(24, [3, 3, 1, 4]), 1, 'same'), tf.grad(f)(t4(24, [3, 3, 1, 4]))];
    },
  });
  cases.push({
    kernel: 'MaxPool + MaxPoolGrad (2×2)',
    shapes: `x[${s}]`,
    run: () => {
      const dyShape: Shape4 = [s[0], Math.floor(s[1] / 2), Math.floor(s[2] / 2), s[3]];
      const f = (x: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid'), t4(25, dyShape)));
      return [tf.grad(f)(t4(26, s))];
    },
  });
}

describe.skipIf(gpu.skip)('webgpu kernels against the cpu backend', () => {
  it('starts the webgpu backend (in CI a missing adapter is a failure, not a skip)', () => {
    expect(gpu.unavailable).toBeUndefined();
    expect(gpu.info?.backend).toBe('webgpu');
  });

  it('registers our WGSL kernels for webgpu', () => {
    expect([...WEBGPU_KERNEL_NAMES].sort()).toEqual(['DsdcBatchNormReluBackward', 'DsdcBatchNormReluForward', 'DsdcDepthwiseConv2dDilatedBackpropFilter', 'DsdcMatMulTransposeA']);
    for (const name of WEBGPU_KERNEL_NAMES) expect(tf.getKernel(name, 'webgpu')).toBeDefined();
  });

  it.each(cases.map((c) => [`${c.kernel} ${c.shapes}`, c] as const))('%s matches the cpu backend', async (_, c) => {
    const expected = await onBackend('cpu', c);
    const actual = await onBackend('webgpu', c);
    const { abs, rel } = compare(actual, expected);
    rows.push({ kernel: c.kernel, shapes: c.shapes, abs, rel });
    expect(rel, `max abs error ${abs}`).toBeLessThan(TOLERANCE.rel * 100);
    expect(abs).toBeLessThan(TOLERANCE.abs);
  });

  afterAll(() => {
    if (rows.length === 0) return;
    const byKernel = new Map<string, { shapes: string[]; abs: number; rel: number }>();
    for (const r of rows) {
      const k = byKernel.get(r.kernel) ?? { shapes: [], abs: 0, rel: 0 };
      k.shapes.push(r.shapes);
      k.abs = Math.max(k.abs, r.abs);
      k.rel = Math.max(k.rel, r.rel);
      byKernel.set(r.kernel, k);
    }
    const table = [
      `webgpu kernels vs cpu on ${gpu.info?.device}`,
      '| kernel | cases | max abs error | max rel error (to max |value|) |',
      '|---|---|---|---|',
      ...[...byKernel].map(([kernel, k]) => `| ${kernel} | ${k.shapes.length} (${k.shapes.join('; ')}) | ${k.abs.toExponential(2)} | ${k.rel.toExponential(2)} |`),
    ].join('\n');
    console.log(table);
    if (process.env['DSDC_KERNEL_TABLE']) fs.writeFileSync(process.env['DSDC_KERNEL_TABLE'], `${table}\n`);
  });
});

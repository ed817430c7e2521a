// The kernels the ops in src/ops call by name, for the webgpu backend, in WGSL:
//   DEPTHWISE_FILTER_GRAD  dW[i, j, c] = Σ_{b,h,w} x[b, h + i·d − p, w + j·d − p, c] · dy[b, h, w, c]
//                          (tfjs-core refuses this gradient for d > 1; the composite fallback
//                          would be k² slices, products and sums per layer)
//   MATMUL_TRANSPOSE_A     aᵀ·b for a: [M, K], b: [M, N] with M = B·H·W ≫ K, N: split over M, so
//                          the GPU has work for more than the (K/32)·(N/32) tiles of a matmul
//   BN_RELU_FORWARD        batch statistics (one pass, shifted by the first row, as the wasm
//                          kernel) and y = max(0, γ(x − μ)σ⁻¹ + β)
//   BN_RELU_BACKWARD       dβ = Σg, dγ = σ⁻¹Σg(x − μ), dx = γσ⁻¹/N · (N·g − dβ − x̂·dγ), g = dy·[y > 0]
// MATMUL (a·b) is left to the stock BatchMatMul, whose tiled program suits these shapes.
import type * as tf from '@tensorflow/tfjs';
import { BN_RELU_BACKWARD, BN_RELU_FORWARD } from '../batchNormRelu.js';
import { DEPTHWISE_FILTER_GRAD } from '../depthwiseDilated.js';
import { KernelError } from '../errors.js';
import { MATMUL_TRANSPOSE_A } from '../pointwise.js';
import { ChannelwiseProgram } from './elementwise.js';
import { type KernelArgs, floats, ints, release, requireFloat32, run } from './program.js';
import { finishSums, partialSums } from './reductions.js';

function rowsAndChannels(shape: number[]): [number, number] {
  const channels = shape[shape.length - 1];
  return [shape.reduce((p, v) => p * v, 1) / channels, channels];
}

function depthwiseFilterGrad({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { x, dy } = inputs;
  requireFloat32(DEPTHWISE_FILTER_GRAD, { x, dy });
  const { kernelSize, dilation } = attrs as { kernelSize: number; dilation: number };
  const [batch, height, width, channels] = x.shape;
  if (dy.shape.join() !== x.shape.join()) throw new KernelError('KERNEL_INPUT', `${DEPTHWISE_FILTER_GRAD} (webgpu): dy is [${dy.shape}] but x is [${x.shape}]; a stride-1 "same" convolution keeps the shape`);
  const pad = (dilation * (kernelSize - 1)) / 2;
  const taps = kernelSize * kernelSize;
  const { partials, chunks } = partialSums({
    backend,
    inputs: [['xs', x], ['dys', dy]],
    rows: batch * height * width,
    channels,
    taps,
    key: 'dsdc_depthwise_filter_grad',
    prelude: `
      fn tapTerm(r : i32, t : i32, c : i32) -> f32 {
        let w = r % uniforms.width;
        let bh = r / uniforms.width;
        let h = bh % uniforms.height;
        let b = bh / uniforms.height;
        let ih = h + (t / uniforms.kernelSize) * uniforms.dilation - uniforms.pad;
        let iw = w + (t % uniforms.kernelSize) * uniforms.dilation - uniforms.pad;
        if (ih < 0 || ih >= uniforms.height || iw < 0 || iw >= uniforms.width) { return 0.0; }
        return xs[((b * uniforms.height + ih) * uniforms.width + iw) * uniforms.channels + c] * dys[r * uniforms.channels + c];
      }`,
    term: 'tapTerm(r, t, c)',
    extraUniforms: 'height : i32, width : i32, kernelSize : i32, dilation : i32, pad : i32,',
    extraValues: [ints(height), ints(width), ints(kernelSize), ints(dilation), ints(pad)],
  });
  const out = finishSums(backend, partials, chunks, taps * channels, [], [kernelSize, kernelSize, channels, 1], 'dsdc_sum', 'value = totalAt(i);');
  release(backend, partials);
  return out;
}

function matMulTransposeA({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const { a, b } = inputs;
  requireFloat32(MATMUL_TRANSPOSE_A, { a, b });
  const [m, k] = a.shape;
  const [mb, n] = b.shape;
  if (m !== mb) throw new KernelError('KERNEL_INPUT', `${MATMUL_TRANSPOSE_A} (webgpu): a is [${a.shape}] and b is [${b.shape}]; their first dimensions must match`);
  const { partials, chunks } = partialSums({
    backend,
    inputs: [['lhs', a], ['rhs', b]],
    rows: m,
    channels: n,
    taps: k,
    key: 'dsdc_matmul_ta',
    term: 'lhs[r * uniforms.taps + t] * rhs[r * uniforms.channels + c]',
  });
  const out = finishSums(backend, partials, chunks, k * n, [], [k, n], 'dsdc_sum', 'value = totalAt(i);');
  release(backend, partials);
  return out;
}

function bnReluForward({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const { x, gamma, beta } = inputs;
  requireFloat32(BN_RELU_FORWARD, { x, gamma, beta });
  const { epsilon } = attrs as { epsilon: number };
  const [rows, channels] = rowsAndChannels(x.shape);
  // Shifted by the first row: Σ(x − x₀) and Σ(x − x₀)², so that a large mean does not cancel.
  const { partials, chunks } = partialSums({
    backend,
    inputs: [['xs', x]],
    rows,
    channels,
    taps: 2,
    key: 'dsdc_bn_statistics',
    prelude: `
      fn statisticTerm(r : i32, t : i32, c : i32) -> f32 {
        let v = xs[r * uniforms.channels + c] - xs[c];
        return select(v * v, v, t == 0);
      }`,
    term: 'statisticTerm(r, t, c)',
  });
  const n = floats(rows);
  const mean = finishSums(backend, partials, chunks, 2 * channels, [['xs', x]], [channels], 'dsdc_bn_mean', 'value = xs[i] + totalAt(i) / uniforms.count;', 'count : f32,', [n]);
  const variance = finishSums(
    backend,
    partials,
    chunks,
    2 * channels,
    [],
    [channels],
    'dsdc_bn_variance',
    'let m = totalAt(i) / uniforms.count; value = max(0.0, totalAt(i + uniforms.size) / uniforms.count - m * m);',
    'count : f32,',
    [n],
  );
  release(backend, partials);
  const apply = new ChannelwiseProgram(
    ['xs', 'gammas', 'betas', 'means', 'variances'],
    x.shape,
    'dsdc_bn_relu_apply',
    `let scale = gammas[c] * inverseSqrt(variances[c] + uniforms.epsilon);
     value = max(0.0, (xs[i] - means[c]) * scale + betas[c]);`,
    'epsilon : f32,',
  );
  const y = run(backend, apply, [x, gamma, beta, mean, variance], [ints(channels), floats(epsilon)]);
  return [y, mean, variance];
}

function bnReluBackward({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const { dy, x, gamma, output, mean, variance } = inputs;
  requireFloat32(BN_RELU_BACKWARD, { dy, x, gamma, output, mean, variance });
  const { epsilon } = attrs as { epsilon: number };
  const [rows, channels] = rowsAndChannels(x.shape);
  const { partials, chunks } = partialSums({
    backend,
    inputs: [['dys', dy], ['xs', x], ['outs', output], ['means', mean]],
    rows,
    channels,
    taps: 2,
    key: 'dsdc_bn_grad_sums',
    prelude: `
      fn gradTerm(r : i32, t : i32, c : i32) -> f32 {
        let at = r * uniforms.channels + c;
        let g = select(0.0, dys[at], outs[at] > 0.0);
        return select(g * (xs[at] - means[c]), g, t == 0);
      }`,
    term: 'gradTerm(r, t, c)',
  });
  const dbeta = finishSums(backend, partials, chunks, 2 * channels, [], [channels], 'dsdc_sum', 'value = totalAt(i);');
  const dgamma = finishSums(
    backend,
    partials,
    chunks,
    2 * channels,
    [['variances', variance]],
    [channels],
    'dsdc_bn_dgamma',
    'value = totalAt(i + uniforms.size) * inverseSqrt(variances[i] + uniforms.epsilon);',
    'epsilon : f32,',
    [floats(epsilon)],
  );
  release(backend, partials);
  // dx = γσ⁻¹/N · (N·g − dβ − x̂·dγ) is affine in g and x per channel: A·g + B·x + D. Folding the
  // per-channel factors first keeps the dx pass at four storage buffers (WebGPU allows 8 per stage).
  const affineProgram = new ChannelwiseProgram(
    ['gammas', 'means', 'variances', 'dbetas', 'dgammas'],
    [3, channels],
    'dsdc_bn_relu_dx_affine',
    `let invStd = inverseSqrt(variances[c] + uniforms.epsilon);
     let k = gammas[c] * invStd / uniforms.count;
     let part = i / uniforms.channels;
     value = select(select(k * (means[c] * invStd * dgammas[c] - dbetas[c]), -k * invStd * dgammas[c], part == 1), k * uniforms.count, part == 0);`,
    'epsilon : f32, count : f32,',
  );
  const affine = run(backend, affineProgram, [gamma, mean, variance, dbeta, dgamma], [ints(channels), floats(epsilon), floats(rows)]);
  const dxProgram = new ChannelwiseProgram(
    ['dys', 'xs', 'outs', 'affine'],
    x.shape,
    'dsdc_bn_relu_dx',
    `let g = select(0.0, dys[i], outs[i] > 0.0);
     value = affine[c] * g + affine[uniforms.channels + c] * xs[i] + affine[2 * uniforms.channels + c];`,
  );
  const dx = run(backend, dxProgram, [dy, x, output, affine], [ints(channels)]);
  release(backend, affine);
  return [dx, dgamma, dbeta];
}

export const DSDC_WEBGPU_KERNELS: Array<[string, (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[]]> = [
  [DEPTHWISE_FILTER_GRAD, depthwiseFilterGrad],
  [MATMUL_TRANSPOSE_A, matMulTransposeA],
  [BN_RELU_FORWARD, bnReluForward],
  [BN_RELU_BACKWARD, bnReluBackward],
];

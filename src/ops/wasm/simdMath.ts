// KernelMath backed by the wasm SIMD builds of kernels/dsdc_kernels.c (kernels/build.sh): plain
// SIMD (dsdc_kernels.wasm) or relaxed SIMD, every multiply-add one f32x4.relaxed_madd
// (dsdc_kernels_fma.wasm). The module imports the backend's own WebAssembly.Memory, so it reads
// and writes tensors in place; scratch space comes from the backend's malloc. Shapes the C
// kernels do not cover (channel counts not a multiple of 4, filters other than 3×3, …) go to the
// JS loops.
import * as fs from 'node:fs';
import { type WasmBackendLike, withScratch } from './heap.js';
import { createJsMath } from './jsMath.js';
import type { KernelMath } from './kernelMath.js';

/** The two builds of the kernels, by the name their KernelMath carries. */
export type SimdVariant = 'simd' | 'fma';

export const KERNEL_WASM_URLS: Record<SimdVariant, URL> = {
  simd: new URL('../../../kernels/dsdc_kernels.wasm', import.meta.url),
  fma: new URL('../../../kernels/dsdc_kernels_fma.wasm', import.meta.url),
};

interface KernelExports {
  matmul(a: number, b: number, out: number, m: number, k: number, n: number): void;
  matmul_ta(a: number, b: number, out: number, m: number, k: number, n: number): void;
  bn_relu_forward(x: number, gamma: number, beta: number, y: number, mean: number, variance: number, rows: number, c: number, epsilon: number, scratch: number): void;
  bn_relu_forward_with_moments(x: number, gamma: number, beta: number, y: number, mean: number, variance: number, rows: number, c: number, epsilon: number, scratch: number): void;
  matmul_with_moments(a: number, b: number, out: number, m: number, k: number, n: number, moments: number, scratch: number): void;
  bn_relu_backward(dy: number, x: number, gamma: number, output: number, mean: number, variance: number, dx: number, dgamma: number, dbeta: number, rows: number, c: number, epsilon: number, scratch: number): void;
  bn_relu_pointwise_backward(dy: number, x: number, gamma: number, output: number, mean: number, variance: number, a: number, wt: number, da: number, dw: number, dgamma: number, dbeta: number, rows: number, cin: number, c: number, epsilon: number, scratch: number): void;
  depthwise3x3_forward(x: number, filter: number, y: number, b: number, h: number, w: number, c: number, d: number, scratch: number): void;
  depthwise3x3_filter_grad(x: number, dy: number, out: number, b: number, h: number, w: number, c: number, d: number, scratch: number): void;
  conv3x3_single_channel_input_grad(dy: number, filter: number, dx: number, b: number, h: number, w: number, cout: number, scratch: number): void;
  maxpool2x2_grad(x: number, dy: number, dx: number, b: number, h: number, w: number, c: number, outH: number, outW: number): void;
  mean_over_rows(x: number, out: number, b: number, rows: number, c: number): void;
  spread_over_rows(v: number, out: number, b: number, rows: number, c: number): void;
  conv3x3_single_channel_filter_grad(x: number, dy: number, out: number, b: number, inH: number, inW: number, outH: number, outW: number, cout: number, padTop: number, padLeft: number, scratch: number): void;
}

/** Rows of dx the fused backward makes at a time (FUSED_ROW_BLOCK in dsdc_kernels.c). */
const FUSED_ROW_BLOCK = 64;

const compiled = new Map<SimdVariant, WebAssembly.Module>();

/** Null when the file is missing or does not compile here (relaxed SIMD off); not remembered, since enableRelaxedSimd may follow. */
function compiledModule(variant: SimdVariant): WebAssembly.Module | null {
  let module = compiled.get(variant);
  if (module === undefined) {
    try {
      module = new WebAssembly.Module(fs.readFileSync(KERNEL_WASM_URLS[variant]));
    } catch {
      return null;
    }
    compiled.set(variant, module);
  }
  return module;
}

/** Undefined when the module is missing, does not compile here, or cannot import the backend's memory. */
export function createSimdMath(backend: WasmBackendLike, variant: SimdVariant): KernelMath | undefined {
  const module = compiledModule(variant);
  const memory = backend.wasm.asm?.memory;
  if (module === null || !(memory instanceof WebAssembly.Memory)) return undefined;
  let k: KernelExports;
  try {
    k = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as KernelExports;
  } catch {
    return undefined;
  }
  const js = createJsMath(() => backend.wasm.HEAPF32);
  const scratch = <T>(bytes: number, use: (pointer: number) => T) => withScratch(backend, bytes, use);
  return {
    name: variant,
    conv2dFilterGrad(x, dy, out, s) {
      const covered =
        s.inChannels === 1 && s.filterHeight === 3 && s.filterWidth === 3 && s.outChannels % 4 === 0 &&
        s.strideHeight === 1 && s.strideWidth === 1 && s.dilationHeight === 1 && s.dilationWidth === 1;
      if (!covered) return js.conv2dFilterGrad(x, dy, out, s);
      scratch(4 * (s.outHeight + 2) * (s.outWidth + 2), (p) =>
        k.conv3x3_single_channel_filter_grad(x, dy, out, s.batch, s.inHeight, s.inWidth, s.outHeight, s.outWidth, s.outChannels, s.padTop, s.padLeft, p),
      );
    },
    conv3x3SingleChannelInputGrad(dy, filter, dx, batch, height, width, outChannels) {
      if (outChannels % 4 !== 0) return js.conv3x3SingleChannelInputGrad(dy, filter, dx, batch, height, width, outChannels);
      scratch(4 * (height + 2) * (width + 2) * outChannels, (p) =>
        k.conv3x3_single_channel_input_grad(dy, filter, dx, batch, height, width, outChannels, p),
      );
    },
    depthwise3x3Forward(x, filter, y, batch, height, width, channels, dilation) {
      if (channels % 4 !== 0) return js.depthwise3x3Forward(x, filter, y, batch, height, width, channels, dilation);
      scratch(4 * width * channels, (p) =>
        k.depthwise3x3_forward(x, filter, y, batch, height, width, channels, dilation, p),
      );
    },
    depthwiseFilterGrad(x, dy, out, batch, height, width, channels, kernelSize, dilation) {
      if (kernelSize !== 3 || channels % 4 !== 0) return js.depthwiseFilterGrad(x, dy, out, batch, height, width, channels, kernelSize, dilation);
      scratch(4 * width * channels, (p) =>
        k.depthwise3x3_filter_grad(x, dy, out, batch, height, width, channels, dilation, p),
      );
    },
    coversMatMul: (kk, n, transposeA) => n % 16 === 0 && (!transposeA || kk % 2 === 0),
    matMul(a, b, out, m, kk, n) {
      if (n % 16 !== 0) return js.matMul(a, b, out, m, kk, n);
      k.matmul(a, b, out, m, kk, n);
    },
    matMulTransposeA(a, b, out, m, kk, n) {
      if (kk % 2 !== 0 || n % 16 !== 0) return js.matMulTransposeA(a, b, out, m, kk, n);
      k.matmul_ta(a, b, out, m, kk, n);
    },
    meanOverRows(x, out, batch, rows, channels) {
      if (channels % 4 !== 0) return js.meanOverRows(x, out, batch, rows, channels);
      k.mean_over_rows(x, out, batch, rows, channels);
    },
    spreadOverRows(v, out, batch, rows, channels) {
      if (channels % 4 !== 0) return js.spreadOverRows(v, out, batch, rows, channels);
      k.spread_over_rows(v, out, batch, rows, channels);
    },
    maxPool2x2Grad(x, dy, dx, batch, height, width, channels, outHeight, outWidth) {
      if (channels % 4 !== 0) return js.maxPool2x2Grad(x, dy, dx, batch, height, width, channels, outHeight, outWidth);
      k.maxpool2x2_grad(x, dy, dx, batch, height, width, channels, outHeight, outWidth);
    },
    // Called only where coversMatMul (n % 16 == 0).
    matMulWithMoments(a, b, out, m, kk, n) {
      return scratch(8 * n + 64 * n, (p) => {
        k.matmul_with_moments(a, b, out, m, kk, n, p, p + 8 * n);
        return backend.wasm.HEAPF32.slice(p >> 2, (p >> 2) + 2 * n);
      });
    },
    // Called only with the moments of matMulWithMoments (so channels % 16 == 0).
    bnReluForwardWithMoments(x, gamma, beta, y, mean, variance, moments, rows, channels, epsilon) {
      backend.wasm.HEAPF32.set(moments.subarray(0, channels), mean >> 2);
      backend.wasm.HEAPF32.set(moments.subarray(channels), variance >> 2);
      scratch(8 * channels, (p) => k.bn_relu_forward_with_moments(x, gamma, beta, y, mean, variance, rows, channels, epsilon, p));
    },
    bnReluForward(x, gamma, beta, y, mean, variance, rows, channels, epsilon) {
      if (channels % 4 !== 0) return js.bnReluForward(x, gamma, beta, y, mean, variance, rows, channels, epsilon);
      scratch(64 * channels, (p) => k.bn_relu_forward(x, gamma, beta, y, mean, variance, rows, channels, epsilon, p));
    },
    coversBnReluPointwise: (inChannels, channels) => inChannels % 16 === 0 && channels % 16 === 0,
    bnReluPointwiseBackward(dy, x, gamma, output, mean, variance, a, wT, da, dw, dgamma, dbeta, rows, inChannels, channels, epsilon) {
      scratch((64 + 4 * FUSED_ROW_BLOCK) * channels, (p) =>
        k.bn_relu_pointwise_backward(dy, x, gamma, output, mean, variance, a, wT, da, dw, dgamma, dbeta, rows, inChannels, channels, epsilon, p),
      );
    },
    bnReluBackward(dy, x, gamma, output, mean, variance, dx, dgamma, dbeta, rows, channels, epsilon) {
      if (channels % 4 !== 0) return js.bnReluBackward(dy, x, gamma, output, mean, variance, dx, dgamma, dbeta, rows, channels, epsilon);
      scratch(64 * channels, (p) => k.bn_relu_backward(dy, x, gamma, output, mean, variance, dx, dgamma, dbeta, rows, channels, epsilon, p));
    },
  };
}

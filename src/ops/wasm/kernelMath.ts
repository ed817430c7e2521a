// The arithmetic behind our wasm kernels, as one interface with two implementations: the SIMD
// module compiled from kernels/dsdc_kernels.c (simdMath.ts) and plain JavaScript loops over the
// heap (jsMath.ts, used when the module cannot be instantiated). All pointers are byte offsets
// into the wasm heap; all tensors are float32, NHWC, contiguous.

export interface ConvFilterGradShape {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  outChannels: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  padTop: number;
  padLeft: number;
}

export interface KernelMath {
  readonly name: string;
  /** dW[fh, fw, ci, co] = Σ x[b, oh·s + fh·d − pad, ow·s + fw·d − pad, ci] · dy[b, oh, ow, co]. */
  conv2dFilterGrad(x: number, dy: number, out: number, s: ConvFilterGradShape): void;
  /** dx[b, h, w, 0] of a 3×3, stride-1, "same" convolution with one input channel (the stem). */
  conv3x3SingleChannelInputGrad(dy: number, filter: number, dx: number, batch: number, height: number, width: number, outChannels: number): void;
  /** y of a 3×3, stride-1, "same" depthwise convolution with dilation d, channel multiplier 1. */
  depthwise3x3Forward(x: number, filter: number, y: number, batch: number, height: number, width: number, channels: number, dilation: number): void;
  /** dW[i, j, c] of a stride-1 "same" depthwise convolution with dilation d, k×k filter. */
  depthwiseFilterGrad(x: number, dy: number, out: number, batch: number, height: number, width: number, channels: number, kernelSize: number, dilation: number): void;
  /** Whether matMul / matMulTransposeA beat the stock BatchMatMul for this shape (else use it). */
  coversMatMul(k: number, n: number, transposeA: boolean): boolean;
  /** out[M, N] = a · b for a: [M, K], b: [K, N]. */
  matMul(a: number, b: number, out: number, m: number, k: number, n: number): void;
  /** out[K, N] = aᵀ · b for a: [M, K], b: [M, N]. */
  matMulTransposeA(a: number, b: number, out: number, m: number, k: number, n: number): void;
  /**
   * out = a · b as matMul, and the mean and variance of out's columns exactly as bnReluForward
   * would compute them from out: [mean × n, variance × n]. Absent, the batch norm after a
   * pointwise convolution makes its own pass (as with bnReluForwardWithMoments absent).
   */
  matMulWithMoments?(a: number, b: number, out: number, m: number, k: number, n: number): Float32Array;
  /** Batch statistics over rows, then y = max(0, γ(x − μ)σ⁻¹ + β). */
  bnReluForward(x: number, gamma: number, beta: number, y: number, mean: number, variance: number, rows: number, channels: number, epsilon: number): void;
  /** out[b, c] = Σ_r x[b, r, c] / rows: the mean over the middle axes of [batch, rows, channels]. */
  meanOverRows(x: number, out: number, batch: number, rows: number, channels: number): void;
  /** out[b, r, c] = v[b, c] for every row r: meanOverRows' backward, v already divided by rows. */
  spreadOverRows(v: number, out: number, batch: number, rows: number, channels: number): void;
  /** bnReluForward with the moments matMulWithMoments gave for x (written to mean and variance as well). */
  bnReluForwardWithMoments?(x: number, gamma: number, beta: number, y: number, mean: number, variance: number, moments: Float32Array, rows: number, channels: number, epsilon: number): void;
  /** dx of a 2×2, stride-2, unpadded max-pool: dy goes to the first maximum of each window. */
  maxPool2x2Grad(x: number, dy: number, dx: number, batch: number, height: number, width: number, channels: number, outHeight: number, outWidth: number): void;
  /**
   * Batch norm + ReLU's backward fused with the pointwise convolution's before it (x = a · w):
   * da = dx · wᵀ, dw = aᵀ · dx, dγ, dβ, without writing dx. wT is wᵀ ([channels, inChannels]).
   * Absent, or false from coversBnReluPointwise, the kernel composes bnReluBackward and the products.
   */
  bnReluPointwiseBackward?(dy: number, x: number, gamma: number, output: number, mean: number, variance: number, a: number, wT: number, da: number, dw: number, dgamma: number, dbeta: number, rows: number, inChannels: number, channels: number, epsilon: number): void;
  coversBnReluPointwise?(inChannels: number, channels: number): boolean;
  /** dx, dγ, dβ of the fused op. */
  bnReluBackward(dy: number, x: number, gamma: number, output: number, mean: number, variance: number, dx: number, dgamma: number, dbeta: number, rows: number, channels: number, epsilon: number): void;
}

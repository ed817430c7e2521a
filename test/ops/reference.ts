// Naive float64 reference implementations, written as direct loops straight from the
// definitions, for the ops and kernels in src/ops. NHWC throughout; arrays are flat, row-major.

export interface Shape4 {
  batch: number;
  height: number;
  width: number;
  channels: number;
}

const at = (s: Shape4, b: number, h: number, w: number, c: number) => ((b * s.height + h) * s.width + w) * s.channels + c;

/** Depthwise k×k convolution, dilation d, stride 1, symmetric "same" padding; filter [k, k, C, 1]. */
export function depthwiseDilatedRef(x: ArrayLike<number>, s: Shape4, filter: ArrayLike<number>, k: number, d: number): Float64Array {
  const out = new Float64Array(s.batch * s.height * s.width * s.channels);
  const pad = (d * (k - 1)) / 2;
  for (let b = 0; b < s.batch; b++)
    for (let h = 0; h < s.height; h++)
      for (let w = 0; w < s.width; w++)
        for (let c = 0; c < s.channels; c++) {
          let sum = 0;
          for (let i = 0; i < k; i++)
            for (let j = 0; j < k; j++) {
              const ih = h + i * d - pad, iw = w + j * d - pad;
              if (ih < 0 || ih >= s.height || iw < 0 || iw >= s.width) continue;
              sum += x[at(s, b, ih, iw, c)] * filter[(i * k + j) * s.channels + c];
            }
          out[at(s, b, h, w, c)] = sum;
        }
  return out;
}

/** 1×1 convolution: out[r, n] = Σ_k x[r, k] · w[k, n] over rows r = B·H·W. */
export function pointwiseRef(x: ArrayLike<number>, rows: number, inC: number, w: ArrayLike<number>, outC: number): Float64Array {
  const out = new Float64Array(rows * outC);
  for (let r = 0; r < rows; r++)
    for (let n = 0; n < outC; n++) {
      let sum = 0;
      for (let k = 0; k < inC; k++) sum += x[r * inC + k] * w[k * outC + n];
      out[r * outC + n] = sum;
    }
  return out;
}

/** aᵀ·b for a: [M, K], b: [M, N]. */
export function matMulTransposeARef(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): Float64Array {
  const out = new Float64Array(k * n);
  for (let p = 0; p < k; p++)
    for (let q = 0; q < n; q++) {
      let sum = 0;
      for (let r = 0; r < m; r++) sum += a[r * k + p] * b[r * n + q];
      out[p * n + q] = sum;
    }
  return out;
}

/** Training-mode batch norm (biased variance) + ReLU over rows of [rows, C]. */
export function batchNormReluRef(
  x: ArrayLike<number>,
  rows: number,
  channels: number,
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  epsilon: number,
): { output: Float64Array; mean: Float64Array; variance: Float64Array } {
  const mean = new Float64Array(channels), variance = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    let sum = 0;
    for (let r = 0; r < rows; r++) sum += x[r * channels + c];
    mean[c] = sum / rows;
    let sq = 0;
    for (let r = 0; r < rows; r++) sq += (x[r * channels + c] - mean[c]) ** 2;
    variance[c] = sq / rows;
  }
  const output = new Float64Array(rows * channels);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < channels; c++) {
      const v = (gamma[c] * (x[r * channels + c] - mean[c])) / Math.sqrt(variance[c] + epsilon) + beta[c];
      output[r * channels + c] = Math.max(0, v);
    }
  return { output, mean, variance };
}

/** dW of a general NHWC convolution (stride, dilation, explicit top/left padding). */
export function conv2dFilterGradRef(
  x: ArrayLike<number>,
  xs: Shape4,
  dy: ArrayLike<number>,
  ys: Shape4,
  kh: number,
  kw: number,
  stride: number,
  padTop: number,
  padLeft: number,
): Float64Array {
  const out = new Float64Array(kh * kw * xs.channels * ys.channels);
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++)
      for (let ci = 0; ci < xs.channels; ci++)
        for (let co = 0; co < ys.channels; co++) {
          let sum = 0;
          for (let b = 0; b < xs.batch; b++)
            for (let oh = 0; oh < ys.height; oh++)
              for (let ow = 0; ow < ys.width; ow++) {
                const ih = oh * stride + i - padTop, iw = ow * stride + j - padLeft;
                if (ih < 0 || ih >= xs.height || iw < 0 || iw >= xs.width) continue;
                sum += x[at(xs, b, ih, iw, ci)] * dy[at(ys, b, oh, ow, co)];
              }
          out[((i * kw + j) * xs.channels + ci) * ys.channels + co] = sum;
        }
  return out;
}

/** dx of a stride-1 NHWC convolution with explicit top/left padding. */
export function conv2dInputGradRef(
  dy: ArrayLike<number>,
  ys: Shape4,
  filter: ArrayLike<number>,
  kh: number,
  kw: number,
  xs: Shape4,
  padTop: number,
  padLeft: number,
): Float64Array {
  const dx = new Float64Array(xs.batch * xs.height * xs.width * xs.channels);
  for (let b = 0; b < ys.batch; b++)
    for (let oh = 0; oh < ys.height; oh++)
      for (let ow = 0; ow < ys.width; ow++)
        for (let i = 0; i < kh; i++)
          for (let j = 0; j < kw; j++) {
            const ih = oh + i - padTop, iw = ow + j - padLeft;
            if (ih < 0 || ih >= xs.height || iw < 0 || iw >= xs.width) continue;
            for (let ci = 0; ci < xs.channels; ci++)
              for (let co = 0; co < ys.channels; co++)
                dx[at(xs, b, ih, iw, ci)] += dy[at(ys, b, oh, ow, co)] * filter[((i * kw + j) * xs.channels + ci) * ys.channels + co];
          }
  return dx;
}

/** dx of a 2×2 stride-2 max-pool: each dy goes to the first maximum of its window (row-major). */
export function maxPool2x2GradRef(x: ArrayLike<number>, xs: Shape4, dy: ArrayLike<number>): Float64Array {
  const oh = Math.floor(xs.height / 2), ow = Math.floor(xs.width / 2);
  const ys: Shape4 = { ...xs, height: oh, width: ow };
  const dx = new Float64Array(xs.batch * xs.height * xs.width * xs.channels);
  for (let b = 0; b < xs.batch; b++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++)
        for (let c = 0; c < xs.channels; c++) {
          let best = at(xs, b, 2 * i, 2 * j, c);
          for (const [di, dj] of [[0, 1], [1, 0], [1, 1]]) {
            const p = at(xs, b, 2 * i + di, 2 * j + dj, c);
            if (x[p] > x[best]) best = p;
          }
          dx[best] = dy[at(ys, b, i, j, c)];
        }
  return dx;
}

/** Central finite differences of a scalar function of a float64 vector. */
export function finiteDifferenceGradient(f: (v: Float64Array) => number, at0: ArrayLike<number>, step = 1e-6): Float64Array {
  const v = Float64Array.from(at0);
  const grad = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const keep = v[i];
    v[i] = keep + step;
    const up = f(v);
    v[i] = keep - step;
    const down = f(v);
    v[i] = keep;
    grad[i] = (up - down) / (2 * step);
  }
  return grad;
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}

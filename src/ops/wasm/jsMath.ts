// Plain-JavaScript KernelMath: direct loops over Float32Array views of the wasm heap. The
// fallback when the SIMD module is unavailable, and the readable statement of each kernel.
import type { ConvFilterGradShape, KernelMath } from './kernelMath.js';

export function createJsMath(heap: () => Float32Array): KernelMath {
  return {
    name: 'js',
    conv2dFilterGrad(x, dy, out, s) {
      const h = heap();
      const xi = x >> 2, di = dy >> 2, oi = out >> 2;
      const { batch, inHeight, inWidth, inChannels: ci, outHeight, outWidth, outChannels: co } = s;
      h.fill(0, oi, oi + s.filterHeight * s.filterWidth * ci * co);
      for (let fh = 0; fh < s.filterHeight; fh++) {
        for (let fw = 0; fw < s.filterWidth; fw++) {
          const tap = oi + (fh * s.filterWidth + fw) * ci * co;
          for (let b = 0; b < batch; b++) {
            for (let oh = 0; oh < outHeight; oh++) {
              const ih = oh * s.strideHeight + fh * s.dilationHeight - s.padTop;
              if (ih < 0 || ih >= inHeight) continue;
              for (let ow = 0; ow < outWidth; ow++) {
                const iw = ow * s.strideWidth + fw * s.dilationWidth - s.padLeft;
                if (iw < 0 || iw >= inWidth) continue;
                const xRow = xi + ((b * inHeight + ih) * inWidth + iw) * ci;
                const dRow = di + ((b * outHeight + oh) * outWidth + ow) * co;
                for (let c = 0; c < ci; c++) {
                  const xv = h[xRow + c];
                  const o = tap + c * co;
                  for (let k = 0; k < co; k++) h[o + k] += xv * h[dRow + k];
                }
              }
            }
          }
        }
      }
    },
    conv3x3SingleChannelInputGrad(dy, filter, dx, batch, height, width, outChannels) {
      const h = heap();
      const di = dy >> 2, fi = filter >> 2, oi = dx >> 2;
      for (let b = 0; b < batch; b++) {
        for (let y = 0; y < height; y++) {
          for (let x = 0; x < width; x++) {
            let sum = 0;
            for (let i = 0; i < 3; i++) {
              const oy = y + 1 - i;
              if (oy < 0 || oy >= height) continue;
              for (let j = 0; j < 3; j++) {
                const ox = x + 1 - j;
                if (ox < 0 || ox >= width) continue;
                const row = di + ((b * height + oy) * width + ox) * outChannels;
                const tap = fi + (i * 3 + j) * outChannels;
                for (let c = 0; c < outChannels; c++) sum += h[row + c] * h[tap + c];
              }
            }
            h[oi + (b * height + y) * width + x] = sum;
          }
        }
      }
    },
    depthwise3x3Forward(x, filter, y, batch, height, width, channels, dilation) {
      const h = heap();
      const xi = x >> 2, fi = filter >> 2, yi = y >> 2;
      for (let b = 0; b < batch; b++) {
        for (let r = 0; r < height; r++) {
          for (let q = 0; q < width; q++) {
            const o = yi + ((b * height + r) * width + q) * channels;
            for (let c = 0; c < channels; c++) h[o + c] = 0;
            for (let i = 0; i < 3; i++) {
              const ir = r + (i - 1) * dilation;
              if (ir < 0 || ir >= height) continue;
              for (let j = 0; j < 3; j++) {
                const iq = q + (j - 1) * dilation;
                if (iq < 0 || iq >= width) continue;
                const src = xi + ((b * height + ir) * width + iq) * channels;
                const tap = fi + (i * 3 + j) * channels;
                for (let c = 0; c < channels; c++) h[o + c] += h[src + c] * h[tap + c];
              }
            }
          }
        }
      }
    },
    depthwiseFilterGrad(x, dy, out, batch, height, width, channels, kernelSize, dilation) {
      const h = heap();
      const xi = x >> 2, di = dy >> 2, oi = out >> 2;
      const pad = (dilation * (kernelSize - 1)) / 2;
      const acc = new Float64Array(channels);
      for (let i = 0; i < kernelSize; i++) {
        for (let j = 0; j < kernelSize; j++) {
          acc.fill(0);
          const dh = i * dilation - pad, dw = j * dilation - pad;
          for (let b = 0; b < batch; b++) {
            for (let y = Math.max(0, -dh); y < Math.min(height, height - dh); y++) {
              for (let xw = Math.max(0, -dw); xw < Math.min(width, width - dw); xw++) {
                const xRow = xi + ((b * height + y + dh) * width + xw + dw) * channels;
                const dRow = di + ((b * height + y) * width + xw) * channels;
                for (let c = 0; c < channels; c++) acc[c] += h[xRow + c] * h[dRow + c];
              }
            }
          }
          const o = oi + (i * kernelSize + j) * channels;
          for (let c = 0; c < channels; c++) h[o + c] = acc[c];
        }
      }
    },
    // JS loops lose to the stock kernel (XNNPACK, or its scalar loop for transposed operands).
    coversMatMul: () => false,
    matMul(a, b, out, m, k, n) {
      const h = heap();
      const ai = a >> 2, bi = b >> 2, oi = out >> 2;
      h.fill(0, oi, oi + m * n);
      for (let r = 0; r < m; r++) {
        for (let p = 0; p < k; p++) {
          const av = h[ai + r * k + p];
          const bRow = bi + p * n, o = oi + r * n;
          for (let q = 0; q < n; q++) h[o + q] += av * h[bRow + q];
        }
      }
    },
    matMulTransposeA(a, b, out, m, k, n) {
      const h = heap();
      const ai = a >> 2, bi = b >> 2, oi = out >> 2;
      h.fill(0, oi, oi + k * n);
      for (let r = 0; r < m; r++) {
        const aRow = ai + r * k, bRow = bi + r * n;
        for (let p = 0; p < k; p++) {
          const av = h[aRow + p];
          if (av === 0) continue;
          const o = oi + p * n;
          for (let q = 0; q < n; q++) h[o + q] += av * h[bRow + q];
        }
      }
    },
    meanOverRows(x, out, batch, rows, channels) {
      const h = heap();
      const xi = x >> 2, oi = out >> 2;
      for (let b = 0; b < batch; b++) {
        const o = oi + b * channels;
        const sums = new Float32Array(channels);
        for (let r = 0; r < rows; r++) {
          const row = xi + (b * rows + r) * channels;
          for (let c = 0; c < channels; c++) sums[c] += h[row + c];
        }
        for (let c = 0; c < channels; c++) h[o + c] = Math.fround(sums[c] / rows);
      }
    },
    spreadOverRows(v, out, batch, rows, channels) {
      const h = heap();
      const vi = v >> 2, oi = out >> 2;
      for (let b = 0; b < batch; b++) {
        for (let r = 0; r < rows; r++) h.copyWithin(oi + (b * rows + r) * channels, vi + b * channels, vi + (b + 1) * channels);
      }
    },
    maxPool2x2Grad(x, dy, dx, batch, height, width, channels, outHeight, outWidth) {
      const h = heap();
      const xi = x >> 2, gi = dy >> 2, oi = dx >> 2;
      h.fill(0, oi, oi + batch * height * width * channels);
      for (let b = 0; b < batch; b++) {
        for (let i = 0; i < outHeight; i++) {
          for (let j = 0; j < outWidth; j++) {
            for (let c = 0; c < channels; c++) {
              let best = -1, bestValue = -Infinity;
              for (let p = 0; p < 4; p++) {
                const at = ((b * height + 2 * i + (p >> 1)) * width + 2 * j + (p & 1)) * channels + c;
                if (h[xi + at] > bestValue || best < 0) {
                  best = at;
                  bestValue = h[xi + at];
                }
              }
              h[oi + best] = h[gi + ((b * outHeight + i) * outWidth + j) * channels + c];
            }
          }
        }
      }
    },
    bnReluForward(x, gamma, beta, y, mean, variance, rows, channels, epsilon) {
      const h = heap();
      const xi = x >> 2, yi = y >> 2;
      const { mu, varc } = statistics(h, xi, rows, channels);
      const scale = new Float32Array(channels), shift = new Float32Array(channels);
      for (let c = 0; c < channels; c++) {
        h[(mean >> 2) + c] = mu[c];
        h[(variance >> 2) + c] = varc[c];
        scale[c] = h[(gamma >> 2) + c] / Math.sqrt(varc[c] + epsilon);
        shift[c] = h[(beta >> 2) + c] - mu[c] * scale[c];
      }
      for (let r = 0; r < rows; r++) {
        const base = r * channels;
        for (let c = 0; c < channels; c++) {
          const v = h[xi + base + c] * scale[c] + shift[c];
          h[yi + base + c] = v > 0 ? v : 0;
        }
      }
    },
    bnReluBackward(dy, x, gamma, output, mean, variance, dx, dgamma, dbeta, rows, channels, epsilon) {
      const h = heap();
      const dyi = dy >> 2, xi = x >> 2, outi = output >> 2, dxi = dx >> 2;
      const mu = h.slice(mean >> 2, (mean >> 2) + channels);
      const sumG = new Float64Array(channels), sumGX = new Float64Array(channels);
      for (let r = 0; r < rows; r++) {
        const base = r * channels;
        for (let c = 0; c < channels; c++) {
          if (h[outi + base + c] > 0) {
            const g = h[dyi + base + c];
            sumG[c] += g;
            sumGX[c] += g * (h[xi + base + c] - mu[c]);
          }
        }
      }
      const invStd = new Float32Array(channels);
      const dB = new Float32Array(channels), dG = new Float32Array(channels), coef = new Float32Array(channels);
      for (let c = 0; c < channels; c++) {
        invStd[c] = 1 / Math.sqrt(h[(variance >> 2) + c] + epsilon);
        dB[c] = sumG[c];
        dG[c] = invStd[c] * sumGX[c];
        coef[c] = (h[(gamma >> 2) + c] * invStd[c]) / rows;
        h[(dbeta >> 2) + c] = dB[c];
        h[(dgamma >> 2) + c] = dG[c];
      }
      for (let r = 0; r < rows; r++) {
        const base = r * channels;
        for (let c = 0; c < channels; c++) {
          const g = h[outi + base + c] > 0 ? h[dyi + base + c] : 0;
          const xhat = (h[xi + base + c] - mu[c]) * invStd[c];
          h[dxi + base + c] = coef[c] * (rows * g - dB[c] - xhat * dG[c]);
        }
      }
    },
  };
}

/** Per-channel mean and biased variance, shifted by the first row to avoid cancellation. */
function statistics(h: Float32Array, xi: number, rows: number, channels: number): { mu: Float64Array; varc: Float64Array } {
  const s1 = new Float64Array(channels), s2 = new Float64Array(channels);
  const shiftBy = h.slice(xi, xi + channels);
  for (let r = 0; r < rows; r++) {
    const base = xi + r * channels;
    for (let c = 0; c < channels; c++) {
      const v = h[base + c] - shiftBy[c];
      s1[c] += v;
      s2[c] += v * v;
    }
  }
  const mu = new Float64Array(channels), varc = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    const m = s1[c] / rows;
    mu[c] = m + shiftBy[c];
    varc[c] = Math.max(0, s2[c] / rows - m * m);
  }
  return { mu, varc };
}

export type { ConvFilterGradShape };

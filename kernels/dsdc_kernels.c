// SIMD kernels for DSDC-Net training on the TensorFlow.js wasm backend.
//
// Built by kernels/build.sh into dsdc_kernels.wasm, which imports the backend's own memory
// ("env"."memory") and works on tensors in place: every pointer is a byte offset in the
// backend's heap. Rules that keep this safe (build.sh checks them on the binary):
//   - no data segments (no static or global arrays, no string literals): they would be copied
//     over the backend's memory at instantiation;
//   - no shadow stack (no local arrays, no address-taken locals): the stack pointer of this
//     module is not the backend's and points into memory the backend owns;
//   - scratch memory comes from the caller, allocated with the backend's malloc.
// Every kernel needs channel counts that are multiples of 4 (tails are left to the JS path).
// Two builds of this one file: plain wasm SIMD (simd128), which every Node 20 runs, and
// DSDC_RELAXED_SIMD (simd128 + relaxed-simd), where every multiply-add is one
// f32x4.relaxed_madd (a fused multiply-add on CPUs with FMA; Node 20 runs it behind
// --experimental-wasm-relaxed-simd). Both compute the same sums in the same order.
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name)))
#define ADD wasm_f32x4_add
#define MUL wasm_f32x4_mul
#define SUB wasm_f32x4_sub
#define LOAD(p) wasm_v128_load(p)
#define STORE(p, v) wasm_v128_store((p), (v))
#define SPLAT(p) wasm_v128_load32_splat(p)
// acc + a·b
#ifdef DSDC_RELAXED_SIMD
#define MADD(acc, a, b) __builtin_wasm_relaxed_madd_f32x4((a), (b), (acc))
#else
#define MADD(acc, a, b) ADD((acc), MUL((a), (b)))
#endif

static inline void zero_floats(float *p, int count) {
  v128_t zero = wasm_f32x4_splat(0.0f);
  int i = 0;
  for (; i + 4 <= count; i += 4) STORE(p + i, zero);
  for (; i < count; i++) p[i] = 0.0f;
}

// ---------------------------------------------------------------------------------------------
// Matrix products for pointwise convolutions. Register tiles of 2 × 16 outputs (8 accumulators,
// 4 loads of b and 2 broadcasts of a per step) measured fastest under V8 here (about 1.4× XNNPACK's
// 4 × 8 kernel for these shapes); wider tiles spill, since V8 gives wasm 15 vector registers.

// out[M, N] = a[M, K] · b[K, N]; N % 16 == 0. The forward pass and dX = dY · Wᵀ (W transposed
// by the caller; it is small). Rows go in blocks of NN_ROW_BLOCK so that, for each 16-column
// strip of b (at most 8 KB), the block's rows of a stay in L1: b as a whole (64 KB for
// 128 × 128) does not fit there.
#define NN_ROW_BLOCK 16
static inline void matmul_row_pair(const float *a0, const float *a1, const float *b, float *o, int K, int N) {
  v128_t c00 = wasm_f32x4_splat(0.0f), c01 = c00, c02 = c00, c03 = c00;
  v128_t c10 = c00, c11 = c00, c12 = c00, c13 = c00;
  for (int k = 0; k < K; k++) {
    v128_t b0 = LOAD(b), b1 = LOAD(b + 4), b2 = LOAD(b + 8), b3 = LOAD(b + 12);
    v128_t x = SPLAT(a0 + k);
    c00 = MADD(c00, x, b0); c01 = MADD(c01, x, b1); c02 = MADD(c02, x, b2); c03 = MADD(c03, x, b3);
    x = SPLAT(a1 + k);
    c10 = MADD(c10, x, b0); c11 = MADD(c11, x, b1); c12 = MADD(c12, x, b2); c13 = MADD(c13, x, b3);
    b += N;
  }
  STORE(o, c00); STORE(o + 4, c01); STORE(o + 8, c02); STORE(o + 12, c03);
  STORE(o + N, c10); STORE(o + N + 4, c11); STORE(o + N + 8, c12); STORE(o + N + 12, c13);
}

static inline void matmul_row(const float *a0, const float *b, float *o, int K, int N) {
  v128_t c00 = wasm_f32x4_splat(0.0f), c01 = c00, c02 = c00, c03 = c00;
  for (int k = 0; k < K; k++) {
    v128_t x = SPLAT(a0 + k);
    c00 = MADD(c00, x, LOAD(b)); c01 = MADD(c01, x, LOAD(b + 4));
    c02 = MADD(c02, x, LOAD(b + 8)); c03 = MADD(c03, x, LOAD(b + 12));
    b += N;
  }
  STORE(o, c00); STORE(o + 4, c01); STORE(o + 8, c02); STORE(o + 12, c03);
}

// Rows [m_block, m_end) of out, every 16-column strip.
static inline void matmul_rows(const float *a, const float *b, float *out, int m_block, int m_end, int K, int N) {
  for (int n0 = 0; n0 < N; n0 += 16) {
    int m0 = m_block;
    for (; m0 + 2 <= m_end; m0 += 2) matmul_row_pair(a + m0 * K, a + (m0 + 1) * K, b + n0, out + m0 * N + n0, K, N);
    if (m0 < m_end) matmul_row(a + m0 * K, b + n0, out + m0 * N + n0, K, N);
  }
}

EXPORT(matmul)
void matmul(const float *a, const float *b, float *out, int M, int K, int N) {
  for (int m_block = 0; m_block < M; m_block += NN_ROW_BLOCK) {
    matmul_rows(a, b, out, m_block, M - m_block < NN_ROW_BLOCK ? M : m_block + NN_ROW_BLOCK, K, N);
  }
}

// out[K, N] = aᵀ · b for a: [M, K], b: [M, N]; K % 2 == 0, N % 16 == 0.
// The weight gradient of a pointwise convolution (dW = Xᵀ · dY). The output (at most 128 × 128)
// stays in cache; rows of a and b stream through in blocks of ROW_BLOCK rows so that a block is
// read from L1/L2, not memory, by each 2 × 16 output tile.
#define ROW_BLOCK 64
// out[K, N] += aᵀ · b.
static void matmul_ta_accumulate(const float *a, const float *b, float *out, int M, int K, int N) {
  for (int m0 = 0; m0 < M; m0 += ROW_BLOCK) {
    int rows = M - m0 < ROW_BLOCK ? M - m0 : ROW_BLOCK;
    for (int k0 = 0; k0 < K; k0 += 2) {
      for (int n0 = 0; n0 < N; n0 += 16) {
        float *o = out + k0 * N + n0;
        v128_t c00 = LOAD(o), c01 = LOAD(o + 4), c02 = LOAD(o + 8), c03 = LOAD(o + 12);
        v128_t c10 = LOAD(o + N), c11 = LOAD(o + N + 4), c12 = LOAD(o + N + 8), c13 = LOAD(o + N + 12);
        const float *ap = a + m0 * K + k0;
        const float *bp = b + m0 * N + n0;
        for (int r = 0; r < rows; r++) {
          v128_t b0 = LOAD(bp), b1 = LOAD(bp + 4), b2 = LOAD(bp + 8), b3 = LOAD(bp + 12);
          v128_t x = SPLAT(ap);
          c00 = MADD(c00, x, b0); c01 = MADD(c01, x, b1); c02 = MADD(c02, x, b2); c03 = MADD(c03, x, b3);
          x = SPLAT(ap + 1);
          c10 = MADD(c10, x, b0); c11 = MADD(c11, x, b1); c12 = MADD(c12, x, b2); c13 = MADD(c13, x, b3);
          ap += K;
          bp += N;
        }
        STORE(o, c00); STORE(o + 4, c01); STORE(o + 8, c02); STORE(o + 12, c03);
        STORE(o + N, c10); STORE(o + N + 4, c11); STORE(o + N + 8, c12); STORE(o + N + 12, c13);
      }
    }
  }
}

EXPORT(matmul_ta)
void matmul_ta(const float *a, const float *b, float *out, int M, int K, int N) {
  zero_floats(out, K * N);
  matmul_ta_accumulate(a, b, out, M, K, N);
}

// ---------------------------------------------------------------------------------------------
// Batch norm + ReLU over [rows, C] (NHWC flattened), C % 4 == 0.
// Statistics: sums of (x − x[0, c]) and its square (the shift avoids cancellation when the mean
// is large against the spread), accumulated in float32 over blocks of STAT_BLOCK rows and in
// float64 across blocks. scratch: 64·C bytes, 8-byte aligned.
#define STAT_BLOCK 64

// The running sums behind the statistics, in scratch: s1, s2 (double[C]) then shift, b1, b2
// (float[C]). Rows are added in order; every STAT_BLOCK rows (counted from the first row of the
// tensor) the float32 block sums go into the float64 ones. Kept as one state so that the matrix
// product that makes x can add its rows while they are in cache (matmul_with_moments) and give
// the same mean and variance, bit for bit, as a pass over x afterwards.
static inline double *moment_sums(void *state) { return (double *)state; }
static inline float *moment_floats(void *state, int C) { return (float *)((double *)state + 2 * C); }

static void moments_begin(const float *first_row, int C, void *state) {
  double *s = moment_sums(state);
  float *shift = moment_floats(state, C);
  for (int c = 0; c < C; c++) {
    s[c] = 0.0;
    s[C + c] = 0.0;
    shift[c] = first_row[c];
  }
}

// Adds rows [r0, r0 + count) of a tensor of `rows` rows; x points at row r0.
static void moments_add_rows(const float *x, int r0, int count, int rows, int C, void *state) {
  double *s1 = moment_sums(state), *s2 = s1 + C;
  float *shift = moment_floats(state, C), *b1 = shift + C, *b2 = b1 + C;
  for (int i = 0; i < count; i++) {
    int r = r0 + i;
    if (r % STAT_BLOCK == 0) {
      zero_floats(b1, C);
      zero_floats(b2, C);
    }
    const float *row = x + i * C;
    for (int c = 0; c < C; c += 4) {
      v128_t v = SUB(LOAD(row + c), LOAD(shift + c));
      STORE(b1 + c, ADD(LOAD(b1 + c), v));
      STORE(b2 + c, MADD(LOAD(b2 + c), v, v));
    }
    if ((r + 1) % STAT_BLOCK == 0 || r + 1 == rows) {
      for (int c = 0; c < C; c++) {
        s1[c] += b1[c];
        s2[c] += b2[c];
      }
    }
  }
}

static void moments_finish(const void *state, int rows, int C, float *mean, float *variance) {
  const double *s1 = (const double *)state, *s2 = s1 + C;
  const float *shift = (const float *)(s1 + 2 * C);
  for (int c = 0; c < C; c++) {
    double m = s1[c] / rows;
    double var = s2[c] / rows - m * m;
    if (var < 0) var = 0;
    mean[c] = (float)(m + shift[c]);
    variance[c] = (float)var;
  }
}

// y = max(0, γ(x − μ)σ⁻¹ + β) from given mean and variance; scratch: 2·C floats.
static void bn_relu_normalize(const float *x, const float *gamma, const float *beta, const float *mean,
                              const float *variance, float *y, int rows, int C, float epsilon, float *scratch) {
  float *scale = scratch;
  float *shift = scratch + C;
  for (int c = 0; c < C; c++) {
    float inv_std = 1.0f / __builtin_sqrtf(variance[c] + epsilon);
    scale[c] = gamma[c] * inv_std;
    shift[c] = beta[c] - mean[c] * scale[c];
  }
  v128_t zero = wasm_f32x4_splat(0.0f);
  for (int r = 0; r < rows; r++) {
    const float *in = x + r * C;
    float *o = y + r * C;
    for (int c = 0; c < C; c += 4) {
      v128_t v = ADD(MUL(LOAD(in + c), LOAD(scale + c)), LOAD(shift + c));
      STORE(o + c, wasm_f32x4_pmax(v, zero));  // v < 0 ? 0 : v, NaN passes through
    }
  }
}

// Batch statistics of x over its rows (written to mean and variance), then y. scratch: 64·C bytes.
EXPORT(bn_relu_forward)
void bn_relu_forward(const float *x, const float *gamma, const float *beta, float *y, float *mean,
                     float *variance, int rows, int C, float epsilon, void *scratch) {
  moments_begin(x, C, scratch);
  moments_add_rows(x, 0, rows, rows, C, scratch);
  moments_finish(scratch, rows, C, mean, variance);
  bn_relu_normalize(x, gamma, beta, mean, variance, y, rows, C, epsilon, (float *)scratch);
}

// y from the mean and variance that matmul_with_moments gave for x (the same values
// bn_relu_forward would compute): one pass over x instead of two. scratch: 8·C bytes.
EXPORT(bn_relu_forward_with_moments)
void bn_relu_forward_with_moments(const float *x, const float *gamma, const float *beta, float *y,
                                  const float *mean, const float *variance, int rows, int C,
                                  float epsilon, float *scratch) {
  bn_relu_normalize(x, gamma, beta, mean, variance, y, rows, C, epsilon, scratch);
}

// The product, and the mean and variance of each of out's columns over its rows, as
// bn_relu_forward computes them (the batch norm after a pointwise convolution): each block of
// NN_ROW_BLOCK rows is added to the sums while it is in L1, which saves the batch norm a pass over
// out. moments: mean[N] then variance[N]. scratch: 64·N bytes.
EXPORT(matmul_with_moments)
void matmul_with_moments(const float *a, const float *b, float *out, int M, int K, int N, float *moments,
                         void *scratch) {
  for (int m_block = 0; m_block < M; m_block += NN_ROW_BLOCK) {
    int m_end = M - m_block < NN_ROW_BLOCK ? M : m_block + NN_ROW_BLOCK;
    matmul_rows(a, b, out, m_block, m_end, K, N);
    if (m_block == 0) moments_begin(out, N, scratch);
    moments_add_rows(out + m_block * N, m_block, m_end - m_block, M, N, scratch);
  }
  if (M > 0) moments_finish(scratch, M, N, moments, moments + N);
}

// g = dy·[y > 0]; dβ = Σ g; dγ = σ⁻¹ Σ g (x − μ);
// dx = γσ⁻¹/N (N g − dβ − x̂ dγ) = A g + B x + D per channel.
// First pass: the sums, dγ and dβ, and A, B, D per channel (coef_g, coef_x, coef_1, kept in
// scratch). scratch: 64·C bytes.
// Where the first pass leaves A, B and D: 3·C floats after its sums (no struct return: that
// would take the shadow stack).
static inline float *bn_backward_coefficients(void *scratch, int C) {
  return (float *)((double *)scratch + 2 * C) + 2 * C;
}

static void bn_relu_backward_sums(const float *dy, const float *x, const float *gamma,
                                                      const float *output, const float *mean,
                                                      const float *variance, float *dgamma, float *dbeta,
                                                      int rows, int C, float epsilon, void *scratch) {
  double *sg = (double *)scratch;
  double *sgx = sg + C;
  float *b1 = (float *)(sgx + C);
  float *b2 = b1 + C;
  float *coef_g = bn_backward_coefficients(scratch, C);
  float *coef_x = coef_g + C;
  float *coef_1 = coef_x + C;
  for (int c = 0; c < C; c++) {
    sg[c] = 0.0;
    sgx[c] = 0.0;
  }
  v128_t zero = wasm_f32x4_splat(0.0f);
  for (int r0 = 0; r0 < rows; r0 += STAT_BLOCK) {
    int r1 = rows - r0 < STAT_BLOCK ? rows : r0 + STAT_BLOCK;
    zero_floats(b1, C);
    zero_floats(b2, C);
    for (int r = r0; r < r1; r++) {
      int base = r * C;
      for (int c = 0; c < C; c += 4) {
        v128_t g = wasm_v128_and(LOAD(dy + base + c), wasm_f32x4_gt(LOAD(output + base + c), zero));
        v128_t centred = SUB(LOAD(x + base + c), LOAD(mean + c));
        STORE(b1 + c, ADD(LOAD(b1 + c), g));
        STORE(b2 + c, MADD(LOAD(b2 + c), g, centred));
      }
    }
    for (int c = 0; c < C; c++) {
      sg[c] += b1[c];
      sgx[c] += b2[c];
    }
  }
  for (int c = 0; c < C; c++) {
    float inv_std = 1.0f / __builtin_sqrtf(variance[c] + epsilon);
    float d_beta = (float)sg[c];
    float d_gamma = (float)sgx[c] * inv_std;
    float coef = gamma[c] * inv_std / (float)rows;
    dbeta[c] = d_beta;
    dgamma[c] = d_gamma;
    coef_g[c] = coef * (float)rows;
    coef_x[c] = -coef * d_gamma * inv_std;
    coef_1[c] = -coef * d_beta + coef * d_gamma * inv_std * mean[c];
  }
}

// Second pass over rows [r0, r1): dx (row r at dx + (r − r0)·C) = A g + B x + D.
static void bn_relu_backward_rows(const float *dy, const float *x, const float *output, void *scratch,
                                  float *dx, int r0, int r1, int C) {
  const float *coef_g = bn_backward_coefficients(scratch, C);
  const float *coef_x = coef_g + C;
  const float *coef_1 = coef_x + C;
  v128_t zero = wasm_f32x4_splat(0.0f);
  for (int r = r0; r < r1; r++) {
    int base = r * C;
    float *out = dx + (r - r0) * C;
    for (int c = 0; c < C; c += 4) {
      v128_t g = wasm_v128_and(LOAD(dy + base + c), wasm_f32x4_gt(LOAD(output + base + c), zero));
      v128_t v = ADD(MADD(MUL(LOAD(coef_g + c), g), LOAD(coef_x + c), LOAD(x + base + c)), LOAD(coef_1 + c));
      STORE(out + c, v);
    }
  }
}

// dx, dγ, dβ of batch norm + ReLU. scratch: 64·C bytes.
EXPORT(bn_relu_backward)
void bn_relu_backward(const float *dy, const float *x, const float *gamma, const float *output,
                      const float *mean, const float *variance, float *dx, float *dgamma,
                      float *dbeta, int rows, int C, float epsilon, void *scratch) {
  bn_relu_backward_sums(dy, x, gamma, output, mean, variance, dgamma, dbeta, rows, C, epsilon, scratch);
  bn_relu_backward_rows(dy, x, output, scratch, dx, 0, rows, C);
}

// Batch norm + ReLU's backward fused with that of the pointwise convolution before it
// (x = a · w, a: [rows, Cin], w: [Cin, C]): da = dx · wᵀ and dw = aᵀ · dx, where dx is the batch
// norm's input gradient above. dx is never written out: its second pass makes FUSED_ROW_BLOCK
// rows at a time into scratch, and both products read that block while it is in cache (one pass
// over memory instead of three: write dx, read it for da, read it for dw).
// wt is wᵀ: [C, Cin]. Cin % 16 == 0, C % 16 == 0. scratch: 64·C + 4·FUSED_ROW_BLOCK·C bytes.
#define FUSED_ROW_BLOCK 64
EXPORT(bn_relu_pointwise_backward)
void bn_relu_pointwise_backward(const float *dy, const float *x, const float *gamma, const float *output,
                                const float *mean, const float *variance, const float *a, const float *wt,
                                float *da, float *dw, float *dgamma, float *dbeta, int rows, int Cin,
                                int C, float epsilon, void *scratch) {
  bn_relu_backward_sums(dy, x, gamma, output, mean, variance, dgamma, dbeta, rows, C, epsilon, scratch);
  float *block = (float *)((char *)scratch + 64 * C);
  zero_floats(dw, Cin * C);
  for (int r0 = 0; r0 < rows; r0 += FUSED_ROW_BLOCK) {
    int r1 = rows - r0 < FUSED_ROW_BLOCK ? rows : r0 + FUSED_ROW_BLOCK;
    bn_relu_backward_rows(dy, x, output, scratch, block, r0, r1, C);
    matmul(block, wt, da + r0 * Cin, r1 - r0, C, Cin);
    matmul_ta_accumulate(a + r0 * Cin, block, dw, r1 - r0, Cin, C);
  }
}

// ---------------------------------------------------------------------------------------------
// Both depthwise kernels read the input in place, with no padded copy (the copy was a pass of its
// own over every image and cost a third of the forward kernel's time once the activations were
// out of cache). A tap above or below the image reads a row of zeros in scratch; a tap left or
// right of it is skipped. Skipping or adding 0·w gives the same sums bit for bit (finite inputs).
// scratch: W·C floats.

// The filter gradient sweeps w in [w0, w1) for one channel group with the taps that range has.
#define FILTER_GRAD_SWEEP(LEFT, RIGHT)                                                                  \
  for (int w = w0; w < w1; w++) {                                                                      \
    v128_t g = LOAD(g_row + w * C);                                                                    \
    const float *pt = top + w * C, *pm = mid + w * C, *pb = bottom + w * C;                            \
    if (LEFT) {                                                                                        \
      a00 = MADD(a00, LOAD(pt - tap_w), g); a10 = MADD(a10, LOAD(pm - tap_w), g); a20 = MADD(a20, LOAD(pb - tap_w), g); \
    }                                                                                                  \
    a01 = MADD(a01, LOAD(pt), g); a11 = MADD(a11, LOAD(pm), g); a21 = MADD(a21, LOAD(pb), g);          \
    if (RIGHT) {                                                                                       \
      a02 = MADD(a02, LOAD(pt + tap_w), g); a12 = MADD(a12, LOAD(pm + tap_w), g); a22 = MADD(a22, LOAD(pb + tap_w), g); \
    }                                                                                                  \
  }

// dW[i, j, c] (3 × 3, dilation d, stride 1, "same") = Σ_{b,h,w} x[b, h + (i−1)d, w + (j−1)d, c] · dy[b, h, w, c].
// Per output row and group of 4 channels, the 9 tap sums live in registers while the row is
// swept in up to four ranges of w (no left tap, all taps, neither, no right tap), in order; the
// three input rows a row needs stay in L1 across the channel groups.
EXPORT(depthwise3x3_filter_grad)
void depthwise3x3_filter_grad(const float *x, const float *dy, float *out, int B, int H, int W,
                              int C, int d, float *zero_row) {
  int row = W * C;
  int tap_w = d * C;
  int no_left = d < W ? d : W;           // w < no_left: no left tap
  int no_right = W - d > 0 ? W - d : 0;  // w >= no_right: no right tap
  zero_floats(out, 9 * C);
  zero_floats(zero_row, row);
  for (int b = 0; b < B; b++) {
    const float *image = x + b * H * row;
    const float *dy_image = dy + b * H * row;
    for (int h = 0; h < H; h++) {
      const float *top_row = h - d >= 0 ? image + (h - d) * row : zero_row;
      const float *bottom_row = h + d < H ? image + (h + d) * row : zero_row;
      for (int c = 0; c < C; c += 4) {
        v128_t a00 = LOAD(out + 0 * C + c), a01 = LOAD(out + 1 * C + c), a02 = LOAD(out + 2 * C + c);
        v128_t a10 = LOAD(out + 3 * C + c), a11 = LOAD(out + 4 * C + c), a12 = LOAD(out + 5 * C + c);
        v128_t a20 = LOAD(out + 6 * C + c), a21 = LOAD(out + 7 * C + c), a22 = LOAD(out + 8 * C + c);
        const float *top = top_row + c, *mid = image + h * row + c, *bottom = bottom_row + c;
        const float *g_row = dy_image + h * row + c;
        int w0 = 0, w1 = no_left < no_right ? no_left : no_right;
        FILTER_GRAD_SWEEP(0, 1)
        w0 = no_left; w1 = no_right;
        FILTER_GRAD_SWEEP(1, 1)
        w0 = no_right; w1 = no_left;
        FILTER_GRAD_SWEEP(0, 0)
        w0 = no_left > no_right ? no_left : no_right; w1 = W;
        FILTER_GRAD_SWEEP(1, 0)
        STORE(out + 0 * C + c, a00); STORE(out + 1 * C + c, a01); STORE(out + 2 * C + c, a02);
        STORE(out + 3 * C + c, a10); STORE(out + 4 * C + c, a11); STORE(out + 5 * C + c, a12);
        STORE(out + 6 * C + c, a20); STORE(out + 7 * C + c, a21); STORE(out + 8 * C + c, a22);
      }
    }
  }
}

// One output pixel, all C channels, from the pixel's place in three input rows (top and bottom
// may be the zero row); left and right say whether the taps at −d and +d columns exist.
// Separate products and a tree of adds in both builds: with fused multiply-adds each row's sum
// became a chain of dependent operations, and the relaxed build ran 10-20% slower.
static inline void depthwise3x3_pixel(const float *t, const float *m, const float *bt, const float *f,
                                      float *o, int C, int tap_w, int left, int right) {
  if (left && right) {
    for (int c = 0; c < C; c += 4) {
      const float *fc = f + c;
      v128_t top = ADD(ADD(MUL(LOAD(t + c - tap_w), LOAD(fc)), MUL(LOAD(t + c), LOAD(fc + C))), MUL(LOAD(t + c + tap_w), LOAD(fc + 2 * C)));
      v128_t mid = ADD(ADD(MUL(LOAD(m + c - tap_w), LOAD(fc + 3 * C)), MUL(LOAD(m + c), LOAD(fc + 4 * C))), MUL(LOAD(m + c + tap_w), LOAD(fc + 5 * C)));
      v128_t bot = ADD(ADD(MUL(LOAD(bt + c - tap_w), LOAD(fc + 6 * C)), MUL(LOAD(bt + c), LOAD(fc + 7 * C))), MUL(LOAD(bt + c + tap_w), LOAD(fc + 8 * C)));
      STORE(o + c, ADD(ADD(top, mid), bot));
    }
  } else if (right) {
    for (int c = 0; c < C; c += 4) {
      const float *fc = f + c;
      v128_t top = ADD(MUL(LOAD(t + c), LOAD(fc + C)), MUL(LOAD(t + c + tap_w), LOAD(fc + 2 * C)));
      v128_t mid = ADD(MUL(LOAD(m + c), LOAD(fc + 4 * C)), MUL(LOAD(m + c + tap_w), LOAD(fc + 5 * C)));
      v128_t bot = ADD(MUL(LOAD(bt + c), LOAD(fc + 7 * C)), MUL(LOAD(bt + c + tap_w), LOAD(fc + 8 * C)));
      STORE(o + c, ADD(ADD(top, mid), bot));
    }
  } else if (left) {
    for (int c = 0; c < C; c += 4) {
      const float *fc = f + c;
      v128_t top = ADD(MUL(LOAD(t + c - tap_w), LOAD(fc)), MUL(LOAD(t + c), LOAD(fc + C)));
      v128_t mid = ADD(MUL(LOAD(m + c - tap_w), LOAD(fc + 3 * C)), MUL(LOAD(m + c), LOAD(fc + 4 * C)));
      v128_t bot = ADD(MUL(LOAD(bt + c - tap_w), LOAD(fc + 6 * C)), MUL(LOAD(bt + c), LOAD(fc + 7 * C)));
      STORE(o + c, ADD(ADD(top, mid), bot));
    }
  } else {
    for (int c = 0; c < C; c += 4) {
      const float *fc = f + c;
      STORE(o + c, ADD(ADD(MUL(LOAD(t + c), LOAD(fc + C)), MUL(LOAD(m + c), LOAD(fc + 4 * C))), MUL(LOAD(bt + c), LOAD(fc + 7 * C))));
    }
  }
}

// Forward depthwise convolution, 3 × 3, dilation d, stride 1, "same", channel multiplier 1:
// y[b, h, w, c] = Σ_{i,j} x[b, h + (i−1)d, w + (j−1)d, c] · f[i, j, c]. Pixel by pixel, all
// channels of a pixel at once, so that y is written in order (sweeping each channel group
// along a row wrote y 16 bytes at a time, 256 bytes apart, and ran 1.4× slower from memory).
// The filter (9·C floats) stays in L1. Also serves dX (the op convolves dy with the filter
// rotated by 180°).
EXPORT(depthwise3x3_forward)
void depthwise3x3_forward(const float *x, const float *filter, float *y, int B, int H, int W, int C,
                          int d, float *zero_row) {
  int row = W * C;
  int tap_w = d * C;
  zero_floats(zero_row, row);
  for (int b = 0; b < B; b++) {
    const float *image = x + b * H * row;
    float *y_image = y + b * H * row;
    for (int h = 0; h < H; h++) {
      const float *top = h - d >= 0 ? image + (h - d) * row : zero_row;
      const float *mid = image + h * row;
      const float *bottom = h + d < H ? image + (h + d) * row : zero_row;
      float *o = y_image + h * row;
      for (int w = 0; w < W; w++) {
        int at = w * C;
        depthwise3x3_pixel(top + at, mid + at, bottom + at, filter, o + at, C, tap_w, w - d >= 0, w + d < W);
      }
    }
  }
}

// Zero-padded copy of one NHWC image [H, W, C] into padded [H + 2p, W + 2p, C]. The border is
// zeroed by the caller once; only the interior is written here.
static void pad_interior(const float *image, float *padded, int H, int W, int C, int p) {
  int padded_w = W + 2 * p;
  for (int h = 0; h < H; h++) {
    const float *src = image + h * W * C;
    float *dst = padded + ((h + p) * padded_w + p) * C;
    for (int i = 0; i < W * C; i += 4) STORE(dst + i, LOAD(src + i));
  }
}

// Weight gradient of a 3 × 3, stride-1, dilation-1 convolution with ONE input channel (the
// stem): dW[i, j, 0, co] = Σ_{b,oh,ow} xpad[b, oh + i, ow + j] · dy[b, oh, ow, co], where xpad
// is x shifted by (padTop, padLeft) with zeros outside. Cout % 4 == 0.
// scratch: (outH + 2)(outW + 2) floats.
EXPORT(conv3x3_single_channel_filter_grad)
void conv3x3_single_channel_filter_grad(const float *x, const float *dy, float *out, int B, int inH,
                                        int inW, int outH, int outW, int Cout, int pad_top,
                                        int pad_left, float *scratch) {
  int pw = outW + 2;
  int ph = outH + 2;
  zero_floats(out, 9 * Cout);
  for (int b = 0; b < B; b++) {
    const float *image = x + b * inH * inW;
    for (int r = 0; r < ph; r++) {
      int ih = r - pad_top;
      for (int s = 0; s < pw; s++) {
        int iw = s - pad_left;
        scratch[r * pw + s] = (ih >= 0 && ih < inH && iw >= 0 && iw < inW) ? image[ih * inW + iw] : 0.0f;
      }
    }
    const float *dy_image = dy + b * outH * outW * Cout;
    for (int c = 0; c < Cout; c += 4) {
      v128_t a00 = LOAD(out + 0 * Cout + c), a01 = LOAD(out + 1 * Cout + c), a02 = LOAD(out + 2 * Cout + c);
      v128_t a10 = LOAD(out + 3 * Cout + c), a11 = LOAD(out + 4 * Cout + c), a12 = LOAD(out + 5 * Cout + c);
      v128_t a20 = LOAD(out + 6 * Cout + c), a21 = LOAD(out + 7 * Cout + c), a22 = LOAD(out + 8 * Cout + c);
      for (int h = 0; h < outH; h++) {
        const float *g_row = dy_image + h * outW * Cout + c;
        const float *p = scratch + h * pw;
        for (int w = 0; w < outW; w++) {
          v128_t g = LOAD(g_row);
          a00 = MADD(a00, SPLAT(p), g);
          a01 = MADD(a01, SPLAT(p + 1), g);
          a02 = MADD(a02, SPLAT(p + 2), g);
          a10 = MADD(a10, SPLAT(p + pw), g);
          a11 = MADD(a11, SPLAT(p + pw + 1), g);
          a12 = MADD(a12, SPLAT(p + pw + 2), g);
          a20 = MADD(a20, SPLAT(p + 2 * pw), g);
          a21 = MADD(a21, SPLAT(p + 2 * pw + 1), g);
          a22 = MADD(a22, SPLAT(p + 2 * pw + 2), g);
          g_row += Cout;
          p += 1;
        }
      }
      STORE(out + 0 * Cout + c, a00); STORE(out + 1 * Cout + c, a01); STORE(out + 2 * Cout + c, a02);
      STORE(out + 3 * Cout + c, a10); STORE(out + 4 * Cout + c, a11); STORE(out + 5 * Cout + c, a12);
      STORE(out + 6 * Cout + c, a20); STORE(out + 7 * Cout + c, a21); STORE(out + 8 * Cout + c, a22);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Gradient of a 2 × 2, stride-2, unpadded max-pool, NHWC, C % 4 == 0. Each dy goes to the first
// maximum of its window in row-major order (the rule of tfjs's cpu backend: strictly greater
// replaces). Rows and columns that no window covers (odd H or W) get zero.
EXPORT(maxpool2x2_grad)
void maxpool2x2_grad(const float *x, const float *dy, float *dx, int B, int H, int W, int C, int outH,
                     int outW) {
  if (H != 2 * outH || W != 2 * outW) zero_floats(dx, B * H * W * C);
  v128_t ones = wasm_i32x4_splat(-1);
  for (int b = 0; b < B; b++) {
    for (int i = 0; i < outH; i++) {
      int top = ((b * H + 2 * i) * W) * C;
      int bottom = top + W * C;
      const float *g_row = dy + ((b * outH + i) * outW) * C;
      for (int j = 0; j < outW; j++) {
        int o00 = top + 2 * j * C, o01 = o00 + C, o10 = bottom + 2 * j * C, o11 = o10 + C;
        for (int c = 0; c < C; c += 4) {
          v128_t g = LOAD(g_row + j * C + c);
          v128_t m = LOAD(x + o00 + c);
          v128_t x01 = LOAD(x + o01 + c), x10 = LOAD(x + o10 + c), x11 = LOAD(x + o11 + c);
          v128_t s1 = wasm_f32x4_gt(x01, m);
          m = wasm_v128_bitselect(x01, m, s1);
          v128_t s2 = wasm_f32x4_gt(x10, m);
          m = wasm_v128_bitselect(x10, m, s2);
          v128_t s3 = wasm_f32x4_gt(x11, m);
          s2 = wasm_v128_andnot(s2, s3);
          s1 = wasm_v128_andnot(s1, wasm_v128_or(s2, s3));
          v128_t s0 = wasm_v128_xor(wasm_v128_or(wasm_v128_or(s1, s2), s3), ones);
          STORE(dx + o00 + c, wasm_v128_and(g, s0));
          STORE(dx + o01 + c, wasm_v128_and(g, s1));
          STORE(dx + o10 + c, wasm_v128_and(g, s2));
          STORE(dx + o11 + c, wasm_v128_and(g, s3));
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Input gradient of a 3 × 3, stride-1, "same" convolution with ONE input channel (the stem):
// dx[b, h, w] = Σ_{i,j,co} dyPad[b, h + 2 − i, w + 2 − j, co] · W[i, j, 0, co], where dyPad is
// dy with a zero border of 1. Four adjacent pixels share each weight load; their four channel
// vectors are reduced to one vector of four sums at the end. Cout % 4 == 0.
// scratch: (H + 2)(W + 2)·Cout floats.
static inline v128_t sum4(v128_t a0, v128_t a1, v128_t a2, v128_t a3) {
  v128_t t0 = ADD(wasm_i32x4_shuffle(a0, a1, 0, 4, 1, 5), wasm_i32x4_shuffle(a0, a1, 2, 6, 3, 7));
  v128_t t1 = ADD(wasm_i32x4_shuffle(a2, a3, 0, 4, 1, 5), wasm_i32x4_shuffle(a2, a3, 2, 6, 3, 7));
  return ADD(wasm_i32x4_shuffle(t0, t1, 0, 1, 4, 5), wasm_i32x4_shuffle(t0, t1, 2, 3, 6, 7));
}

EXPORT(conv3x3_single_channel_input_grad)
void conv3x3_single_channel_input_grad(const float *dy, const float *filter, float *dx, int B, int H,
                                       int W, int Cout, float *scratch) {
  int pw = W + 2;
  zero_floats(scratch, (H + 2) * pw * Cout);
  for (int b = 0; b < B; b++) {
    pad_interior(dy + b * H * W * Cout, scratch, H, W, Cout, 1);
    float *dx_image = dx + b * H * W;
    for (int h = 0; h < H; h++) {
      int w = 0;
      for (; w + 4 <= W; w += 4) {
        v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0, a2 = a0, a3 = a0;
        for (int i = 0; i < 3; i++) {
          for (int j = 0; j < 3; j++) {
            const float *p = scratch + ((h + 2 - i) * pw + (w + 2 - j)) * Cout;
            const float *f = filter + (i * 3 + j) * Cout;
            for (int c = 0; c < Cout; c += 4) {
              v128_t wv = LOAD(f + c);
              a0 = MADD(a0, LOAD(p + c), wv);
              a1 = MADD(a1, LOAD(p + Cout + c), wv);
              a2 = MADD(a2, LOAD(p + 2 * Cout + c), wv);
              a3 = MADD(a3, LOAD(p + 3 * Cout + c), wv);
            }
          }
        }
        STORE(dx_image + h * W + w, sum4(a0, a1, a2, a3));
      }
      for (; w < W; w++) {
        v128_t a0 = wasm_f32x4_splat(0.0f);
        for (int i = 0; i < 3; i++) {
          for (int j = 0; j < 3; j++) {
            const float *p = scratch + ((h + 2 - i) * pw + (w + 2 - j)) * Cout;
            const float *f = filter + (i * 3 + j) * Cout;
            for (int c = 0; c < Cout; c += 4) a0 = MADD(a0, LOAD(p + c), LOAD(f + c));
          }
        }
        dx_image[h * W + w] = wasm_f32x4_extract_lane(a0, 0) + wasm_f32x4_extract_lane(a0, 1) +
                              wasm_f32x4_extract_lane(a0, 2) + wasm_f32x4_extract_lane(a0, 3);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Mean over the middle axes of [B, R, C] (global average pooling of NHWC, R = H·W): out[b, c] =
// Σ_r x[b, r, c] / R, summed in row order in float32 (as the stock Sum). One pass, in order; the
// stock Mean transposes the whole tensor first to bring the reduced axes last. C % 4 == 0.
EXPORT(mean_over_rows)
void mean_over_rows(const float *x, float *out, int B, int R, int C) {
  for (int b = 0; b < B; b++) {
    float *o = out + b * C;
    const float *image = x + b * R * C;
    zero_floats(o, C);
    for (int r = 0; r < R; r++) {
      const float *row = image + r * C;
      for (int c = 0; c < C; c += 4) STORE(o + c, ADD(LOAD(o + c), LOAD(row + c)));
    }
    for (int c = 0; c < C; c++) o[c] = o[c] / (float)R;
  }
}

// The backward of that mean: out[b, r, c] = v[b, c] for r < R (v already divided by R). C % 4 == 0.
EXPORT(spread_over_rows)
void spread_over_rows(const float *v, float *out, int B, int R, int C) {
  for (int b = 0; b < B; b++) {
    const float *src = v + b * C;
    float *image = out + b * R * C;
    for (int r = 0; r < R; r++) {
      float *row = image + r * C;
      for (int c = 0; c < C; c += 4) STORE(row + c, LOAD(src + c));
    }
  }
}

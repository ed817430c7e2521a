import { describe, expect, it } from 'vitest';
import {
  bfloat16BitsOf,
  bfloat16ToFloat32,
  float16BitsOf,
  float16ToFloat32,
  float32BitsOfFloat16,
  float32ToBfloat16,
  float32ToFloat16,
  FLOAT16_MAX,
} from '../../src/protocol/reducedPrecision.js';

// Naive references, written from the format definitions with plain arithmetic on numbers.
function naiveHalfValue(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0x1f) return m === 0 ? sign * Infinity : NaN;
  if (e === 0) return sign * m * 2 ** -24;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}

/** All finite non-negative halves in increasing order: bit patterns 0x0000..0x7bff are monotone. */
const positiveHalves = Array.from({ length: 0x7c00 }, (_, h) => naiveHalfValue(h));

/** Nearest half by binary search over every half, ties to the even bit pattern; beyond 65520 → Infinity (IEEE). */
function naiveFloat16Of(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  // 65520 is the midpoint between 65504 and the next (absent) value 65536: it and above round to Infinity.
  if (a >= 65520) return sign | 0x7c00;
  let lo = 0;
  let hi = positiveHalves.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (positiveHalves[mid] <= a) lo = mid;
    else hi = mid;
  }
  if (positiveHalves[hi] <= a) lo = hi;
  const up = Math.min(lo + 1, positiveHalves.length - 1);
  const below = a - positiveHalves[lo];
  const above = positiveHalves[up] - a;
  const pick = below < above ? lo : above < below ? up : lo % 2 === 0 ? lo : up;
  return sign | pick;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const bitsOf = (x: number) => ((f32[0] = x), u32[0]);
const valueOf = (bits: number) => ((u32[0] = bits), f32[0]);

/** Deterministic pseudo-random 32-bit patterns (xorshift). */
function* randomBits(count: number, seed = 0x9e3779b9): Generator<number> {
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    yield s;
  }
}

describe('float16 conversion', () => {
  it('decodes every one of the 65536 halves to the value the format defines', () => {
    for (let h = 0; h < 0x1_0000; h++) {
      const expected = naiveHalfValue(h);
      const got = valueOf(float32BitsOfFloat16(h));
      if (Number.isNaN(expected)) expect(Number.isNaN(got), `half 0x${h.toString(16)}`).toBe(true);
      else expect(Object.is(got, expected), `half 0x${h.toString(16)}: ${got} vs ${expected}`).toBe(true);
    }
  });

  it('round-trips every one of the 65536 halves bit for bit (NaN payloads and -0 included)', () => {
    const all = Uint16Array.from({ length: 0x1_0000 }, (_, h) => h);
    const back = new Uint16Array(0x1_0000);
    const asFloat = float16ToFloat32(all);
    const bits = new Uint32Array(asFloat.buffer);
    for (let h = 0; h < all.length; h++) back[h] = float16BitsOf(bits[h]);
    expect(back).toEqual(all);
  });

  it('rounds random float32 values to the nearest half, ties to even, like the naive reference', () => {
    const FIRST_EXPONENT = 127 - 28; // below the smallest subnormal half…
    const EXPONENTS = 48; // …to beyond the largest half (2^20)
    for (const r of randomBits(100_000)) {
      const input = ((r & 0x8000_0000) | ((FIRST_EXPONENT + ((r >>> 23) % EXPONENTS)) << 23) | (r & 0x7f_ffff)) >>> 0;
      expect(float16BitsOf(input), `x = ${valueOf(input)}`).toBe(naiveFloat16Of(valueOf(input)));
    }
  });

  it('breaks exact ties between neighbouring halves towards the even bit pattern, normals and subnormals alike', () => {
    for (let h = 0; h < 0x7bff; h++) {
      const midpoint = (naiveHalfValue(h) + naiveHalfValue(h + 1)) / 2; // exact in float32 (one more mantissa bit)
      const even = h % 2 === 0 ? h : h + 1;
      expect(float16BitsOf(bitsOf(midpoint)), `midpoint above 0x${h.toString(16)}`).toBe(even);
      expect(float16BitsOf(bitsOf(-midpoint))).toBe(0x8000 | even);
      // One float32 ulp either side of the tie goes to the nearer neighbour.
      expect(float16BitsOf(bitsOf(midpoint) + 1)).toBe(h + 1);
      expect(float16BitsOf(bitsOf(midpoint) - 1)).toBe(h);
    }
  });

  it('keeps subnormals down to 2^-24, rounds half of it to zero (tie to even) and anything above half up', () => {
    expect(float16BitsOf(bitsOf(2 ** -24))).toBe(0x0001);
    expect(float16BitsOf(bitsOf(2 ** -25))).toBe(0x0000);
    expect(float16BitsOf(bitsOf(2 ** -25) + 1)).toBe(0x0001);
    expect(float16BitsOf(bitsOf(2 ** -30))).toBe(0x0000);
    expect(float16BitsOf(bitsOf(-(2 ** -30)))).toBe(0x8000);
    expect(float16BitsOf(bitsOf(6.1e-5))).toBe(naiveFloat16Of(valueOf(bitsOf(6.1e-5))));
  });

  it('maps NaN to a NaN and ±Infinity to ±Infinity; IEEE overflow gives Infinity from 65520 up', () => {
    expect(float16BitsOf(0x7fc0_0000)).toBe(0x7e00);
    expect(float16BitsOf(0x7f80_0001) & 0x7c00).toBe(0x7c00);
    expect(float16BitsOf(0x7f80_0001) & 0x3ff).not.toBe(0);
    expect(float16BitsOf(bitsOf(Infinity))).toBe(0x7c00);
    expect(float16BitsOf(bitsOf(-Infinity))).toBe(0xfc00);
    expect(float16BitsOf(bitsOf(65519))).toBe(0x7bff);
    expect(float16BitsOf(bitsOf(65520))).toBe(0x7c00);
  });

  it('saturates finite values beyond ±65504 on the wire, but leaves Infinity and NaN non-finite', () => {
    const halves = float32ToFloat16(Float32Array.of(1e6, -1e30, 65520, Infinity, -Infinity, NaN, 1.5));
    expect([...float16ToFloat32(halves)]).toEqual([FLOAT16_MAX, -FLOAT16_MAX, FLOAT16_MAX, Infinity, -Infinity, NaN, 1.5]);
  });
});

describe('bfloat16 conversion', () => {
  /** Nearest of the two bfloat16 values around x (truncation and the next one up), ties to even. */
  function naiveBfloat16Of(bits: number): number {
    const x = valueOf(bits);
    if (Number.isNaN(x)) return -1;
    const down = bits >>> 16;
    const up = down + 1;
    const below = Math.abs(x - valueOf(down << 16));
    const above = Math.abs(valueOf((up << 16) >>> 0) - x);
    if (!Number.isFinite(valueOf((up << 16) >>> 0))) {
      // Next is ±Infinity: round up past the midpoint (the value a 9th exponent bit would have).
      const mid = (valueOf(down << 16) + 2 ** 128 * Math.sign(x)) / 2;
      return Math.abs(x) >= Math.abs(mid) && (Math.abs(x) > Math.abs(mid) || down % 2 === 1) ? up : down;
    }
    return below < above ? down : above < below ? up : down % 2 === 0 ? down : up;
  }

  it('rounds random float32 values to the nearest bfloat16, ties to even, like the naive reference', () => {
    for (const bits of randomBits(100_000, 12345)) {
      const expected = naiveBfloat16Of(bits);
      if (expected < 0) expect(Number.isNaN(valueOf(bfloat16BitsOf(bits) << 16))).toBe(true);
      else expect(bfloat16BitsOf(bits), `bits 0x${bits.toString(16)}`).toBe(expected);
    }
  });

  it('breaks exact ties towards the even pattern, subnormals included', () => {
    expect(bfloat16BitsOf(0x3f80_8000)).toBe(0x3f80); // 1 + 2^-8: tie, 0x3f80 is even
    expect(bfloat16BitsOf(0x3f81_8000)).toBe(0x3f82);
    expect(bfloat16BitsOf(0x3f80_8001)).toBe(0x3f81);
    expect(bfloat16BitsOf(0x0000_8000)).toBe(0x0000); // subnormal tie
    expect(bfloat16BitsOf(0x0001_8000)).toBe(0x0002);
    expect(bfloat16BitsOf(0x8000_8001)).toBe(0x8001);
  });

  it('round-trips every one of the 65536 bfloat16 values bit for bit', () => {
    const all = Uint16Array.from({ length: 0x1_0000 }, (_, b) => b);
    const back = new Uint16Array(all.length);
    const bits = new Uint32Array(bfloat16ToFloat32(all).buffer);
    for (let b = 0; b < all.length; b++) back[b] = bfloat16BitsOf(bits[b]);
    expect(back).toEqual(all);
  });

  it('keeps NaN a NaN even when its payload is only in the low half, ±Infinity as is, and saturates finite overflow', () => {
    expect(bfloat16BitsOf(0x7f80_0001) & 0x7f).not.toBe(0);
    expect(bfloat16BitsOf(bitsOf(Infinity))).toBe(0x7f80);
    expect(bfloat16BitsOf(0x7f7f_ffff)).toBe(0x7f80); // IEEE rounding overflows…
    const wire = float32ToBfloat16(new Float32Array(new Uint32Array([0x7f7f_ffff, 0xff7f_ffff, 0x7f80_0000]).buffer));
    expect([...wire]).toEqual([0x7f7f, 0xff7f, 0x7f80]); // …the wire saturates finite values only
  });
});

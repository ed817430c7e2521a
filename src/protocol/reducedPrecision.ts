// Conversion of float32 values to and from the two 16-bit wire formats: IEEE 754 half precision
// (float16: 5 exponent bits, 10 mantissa bits) and bfloat16 (float32's 8 exponent bits, 7 mantissa
// bits). Both round to nearest, ties to even, and work on bit patterns (NaN payloads and -0 kept).
// On the wire a finite value beyond the format's range saturates to its largest finite value
// instead of becoming ±Infinity: a gradient component above 65504 is a real number, and an
// Infinity would make the coordinator refuse the worker's whole contribution (docs/protocol.md).

/** Largest finite float16, 0x7bff. */
export const FLOAT16_MAX = 65504;
const FLOAT16_MAX_BITS = 0x7bff;
const FLOAT16_INFINITY_BITS = 0x7c00;
const BFLOAT16_MAX_BITS = 0x7f7f;
const BFLOAT16_EXPONENT_BITS = 0x7f80;
const FLOAT32_EXPONENT_MASK = 0x7f80_0000;
const FLOAT32_MANTISSA_MASK = 0x007f_ffff;

/** IEEE half bits of one float32 bit pattern, round to nearest even; overflow gives ±Infinity as IEEE says. */
export function float16BitsOf(float32Bits: number): number {
  const sign = (float32Bits >>> 16) & 0x8000;
  const exponent = (float32Bits >>> 23) & 0xff;
  const mantissa = float32Bits & FLOAT32_MANTISSA_MASK;
  if (exponent === 0xff) {
    // Infinity stays Infinity; a NaN keeps its top payload bits and must stay a NaN (non-zero mantissa).
    if (mantissa === 0) return sign | FLOAT16_INFINITY_BITS;
    return sign | FLOAT16_INFINITY_BITS | (mantissa >>> 13 || 0x200);
  }
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | FLOAT16_INFINITY_BITS;
  if (halfExponent <= 0) {
    // Subnormal half: value = m × 2^-24 with m = (1.mantissa × 2^23) × 2^(halfExponent - 14).
    if (halfExponent < -10) return sign;
    return sign | roundShift(mantissa | 0x80_0000, 14 - halfExponent);
  }
  // A carry out of the mantissa moves into the exponent, which is the right answer (up to Infinity).
  return sign | ((halfExponent << 10) + roundShift(mantissa, 13));
}

/** float32 bit pattern of one half value (exact: every half is a float32). */
export function float32BitsOfFloat16(half: number): number {
  const sign = (half & 0x8000) << 16;
  const exponent = (half >>> 10) & 0x1f;
  const mantissa = half & 0x3ff;
  if (exponent === 0x1f) return (sign | FLOAT32_EXPONENT_MASK | (mantissa << 13)) >>> 0;
  if (exponent === 0) {
    if (mantissa === 0) return sign >>> 0;
    // Normalise the subnormal: shift until the leading 1 is the implicit bit.
    let e = -14;
    let m = mantissa;
    while ((m & 0x400) === 0) {
      m <<= 1;
      e--;
    }
    return (sign | ((e + 127) << 23) | ((m & 0x3ff) << 13)) >>> 0;
  }
  return (sign | ((exponent - 15 + 127) << 23) | (mantissa << 13)) >>> 0;
}

/** bfloat16 bits of one float32 bit pattern: its top 16 bits, round to nearest even (overflow → ±Infinity). */
export function bfloat16BitsOf(float32Bits: number): number {
  const bits = float32Bits >>> 0;
  if ((bits & FLOAT32_EXPONENT_MASK) === FLOAT32_EXPONENT_MASK && (bits & FLOAT32_MANTISSA_MASK) !== 0) {
    // A NaN keeps its top payload bits; one whose payload lives only in the low half must not truncate to Infinity.
    const top = bits >>> 16;
    return (top & 0x7f) === 0 ? top | 0x40 : top;
  }
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

/** A 16-bit format as the narrowing loop needs it: rounding, and the bits of its infinity and largest finite value. */
interface HalfFormat {
  roundedBits: (float32Bits: number) => number;
  infinityBits: number;
  maxBits: number;
}

const FLOAT16: HalfFormat = { roundedBits: float16BitsOf, infinityBits: FLOAT16_INFINITY_BITS, maxBits: FLOAT16_MAX_BITS };
const BFLOAT16: HalfFormat = { roundedBits: bfloat16BitsOf, infinityBits: BFLOAT16_EXPONENT_BITS, maxBits: BFLOAT16_MAX_BITS };

/** Rounds every value to `format`; a finite value that rounds to infinity saturates to the largest finite one. */
function narrow(values: Float32Array, format: HalfFormat): Uint16Array {
  const bits = bitsOf(values);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < bits.length; i++) {
    const rounded = format.roundedBits(bits[i]);
    out[i] = (rounded & 0x7fff) === format.infinityBits && !isFloat32Infinity(bits[i]) ? (rounded & 0x8000) | format.maxBits : rounded;
  }
  return out;
}

/** Values as float16 bits; finite values beyond ±65504 saturate to ±65504 (see the header). */
export function float32ToFloat16(values: Float32Array): Uint16Array {
  return narrow(values, FLOAT16);
}

export function float16ToFloat32(halves: Uint16Array): Float32Array {
  const table = float16Table();
  const out = new Float32Array(halves.length);
  const outBits = new Uint32Array(out.buffer);
  for (let i = 0; i < halves.length; i++) outBits[i] = table[halves[i]];
  return out;
}

/** Values as bfloat16 bits; finite values beyond bfloat16's largest (≈3.39e38) saturate to it. */
export function float32ToBfloat16(values: Float32Array): Uint16Array {
  return narrow(values, BFLOAT16);
}

export function bfloat16ToFloat32(values: Uint16Array): Float32Array {
  const out = new Float32Array(values.length);
  const outBits = new Uint32Array(out.buffer);
  for (let i = 0; i < values.length; i++) outBits[i] = values[i] << 16;
  return out;
}

/** True when a float16 bit pattern is NaN or ±Infinity (all exponent bits set). */
export function isFloat16NonFinite(half: number): boolean {
  return (half & FLOAT16_INFINITY_BITS) === FLOAT16_INFINITY_BITS;
}

/** True when a bfloat16 bit pattern is NaN or ±Infinity. */
export function isBfloat16NonFinite(value: number): boolean {
  return (value & BFLOAT16_EXPONENT_BITS) === BFLOAT16_EXPONENT_BITS;
}

/** `value >>> shift` rounded to nearest, ties to even (shift ≥ 1). */
function roundShift(value: number, shift: number): number {
  const kept = value >>> shift;
  const rest = value & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  return rest > half || (rest === half && (kept & 1) === 1) ? kept + 1 : kept;
}

function isFloat32Infinity(bits: number): boolean {
  return (bits & 0x7fff_ffff) === FLOAT32_EXPONENT_MASK;
}

function bitsOf(values: Float32Array): Uint32Array {
  return new Uint32Array(values.buffer, values.byteOffset, values.length);
}

/** float32 bits of all 65536 halves (256 KiB), made on first use: decoding is one lookup per value. */
let table: Uint32Array | undefined;
function float16Table(): Uint32Array {
  if (!table) {
    table = new Uint32Array(0x1_0000);
    for (let h = 0; h < table.length; h++) table[h] = float32BitsOfFloat16(h);
  }
  return table;
}

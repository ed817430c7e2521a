// Seeded randomness for the data pipeline. Every worker must draw the same numbers from the same
// seed, so nothing here touches Math.random. Seeds are taken as uint32 (`seed >>> 0`).

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n); n a positive integer <= 2^32. */
  nextInt(n: number): number;
}

const UINT32_RANGE = 4294967296;
const GOLDEN_GAMMA = 0x9e3779b9;

/** mulberry32: tiny, fast, passes the usual statistical batteries for this use. */
export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  const nextUint32 = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  return {
    next: () => nextUint32() / UINT32_RANGE,
    nextInt: (n: number) => {
      if (!Number.isInteger(n) || n <= 0 || n > UINT32_RANGE) {
        throw new RangeError(`nextInt(n) needs an integer 1..2^32, got ${n}`);
      }
      return Math.floor((nextUint32() / UINT32_RANGE) * n);
    },
  };
}

/** murmur3's 32-bit finaliser: a bijection that spreads every input bit over the output. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Deterministic uint32 from two integers; nearby inputs give unrelated outputs. */
export function mixSeeds(a: number, b: number): number {
  return fmix32((fmix32(a >>> 0) ^ Math.imul((b >>> 0) + 1, GOLDEN_GAMMA)) >>> 0);
}

/** The seed for one epoch's shuffle and augmentation, derived from the run seed. */
export function epochSeed(seed: number, epoch: number): number {
  return mixSeeds(seed, epoch);
}

/** Fisher–Yates shuffle of 0..n-1. */
export function seededPermutation(n: number, seed: number): Int32Array {
  if (!Number.isInteger(n) || n < 0) {
    throw new RangeError(`permutation size must be an integer >= 0, got ${n}`);
  }
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  const rng = createRng(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    const t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  return perm;
}

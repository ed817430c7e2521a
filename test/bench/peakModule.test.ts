// The peak benchmark's loops compute what they claim: with memory filled with ones, a tile adds
// rows·vectors products of 1·1 per step, and the register loop doubles its accumulators.
import { describe, expect, it } from 'vitest';
import { type PeakKernel, describePeakKernel, peakFlops, peakModuleBytes } from '../../bench/peak/peakModule.js';
import { PEAK_KERNELS } from '../../bench/peak/measurePeak.js';
import { enableRelaxedSimd } from '../../src/ops/wasm/relaxedSimd.js';

function run(kernel: PeakKernel, iterations: number): number {
  const { exports } = new WebAssembly.Instance(new WebAssembly.Module(peakModuleBytes(kernel)));
  new Float32Array((exports.memory as WebAssembly.Memory).buffer).fill(1);
  return (exports.run as (n: number) => number)(iterations);
}

describe('peak benchmark loops', () => {
  enableRelaxedSimd();

  it.each(PEAK_KERNELS.filter((k) => k.loop === 'tile').map((k) => [describePeakKernel(k), k] as const))('%s: each step adds one product per accumulator', (_, kernel) => {
    const accumulators = kernel.rows! * kernel.vectors!;
    expect(run(kernel, 50)).toBe(50 * accumulators);
    expect(peakFlops(kernel, 50)).toBe(50 * accumulators * 8);
  });

  it.each(['mul+add', 'relaxed_madd'] as const)('registers, %s: acc + acc·1 doubles each of 12 accumulators every step', (arithmetic) => {
    expect(run({ loop: 'registers', arithmetic }, 5)).toBe(12 * 2 ** 5);
  });

  it('refuses a tile that cannot fit in the vector registers', () => {
    expect(() => peakModuleBytes({ loop: 'tile', arithmetic: 'mul+add', rows: 4, vectors: 4 })).toThrow(/does not fit in 15 vector registers/);
  });
});

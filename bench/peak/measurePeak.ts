// Times the loops of peakModule.ts: each kernel compiled once, then all of them in turn for
// `rounds` rounds of a short run each, keeping each kernel's best run. Short interleaved runs
// make the best one likely to have had the core to itself on a shared machine.
import { enableRelaxedSimd } from '../../src/ops/wasm/relaxedSimd.js';
import { type PeakKernel, describePeakKernel, peakFlops, peakModuleBytes } from './peakModule.js';

export interface PeakResult {
  kernel: PeakKernel;
  label: string;
  gflops: number;
}

/** The loops `npm run bench:peak` times: the register loop and the tiles that fit V8's registers. */
export const PEAK_KERNELS: readonly PeakKernel[] = (['mul+add', 'relaxed_madd'] as const).flatMap((arithmetic) => [
  { loop: 'registers' as const, arithmetic },
  ...[[2, 4], [3, 3], [4, 2], [3, 2], [5, 2], [6, 2]].map(([rows, vectors]) => ({ loop: 'tile' as const, arithmetic, rows, vectors })),
]);

export function measurePeaks(kernels: readonly PeakKernel[] = PEAK_KERNELS, rounds = 40, iterations = 200_000): PeakResult[] {
  const relaxed = enableRelaxedSimd();
  const runnable = kernels.filter((k) => relaxed || k.arithmetic !== 'relaxed_madd');
  const runs = runnable.map((kernel) => {
    const run = new WebAssembly.Instance(new WebAssembly.Module(peakModuleBytes(kernel))).exports.run as (n: number) => number;
    run(iterations / 10); // tier up before timing
    return run;
  });
  const best = runnable.map(() => Number.POSITIVE_INFINITY);
  for (let round = 0; round < rounds; round++) {
    runs.forEach((run, i) => {
      const t0 = performance.now();
      run(iterations);
      best[i] = Math.min(best[i], performance.now() - t0);
    });
  }
  return runnable.map((kernel, i) => ({ kernel, label: describePeakKernel(kernel), gflops: peakFlops(kernel, iterations) / (best[i] * 1e6) }));
}

/** The best rate of each arithmetic: the peak a kernel of that kind can reach here. */
export function peakByArithmetic(results: readonly PeakResult[]): Map<string, PeakResult> {
  const peaks = new Map<string, PeakResult>();
  for (const r of results) if ((peaks.get(r.kernel.arithmetic)?.gflops ?? 0) < r.gflops) peaks.set(r.kernel.arithmetic, r);
  return peaks;
}

// Node flags for the worker processes this project starts. V8 collects garbage on helper threads
// (concurrent marking, parallel scavenges, concurrent sweeping) besides the main one. When every
// core already runs a worker or the process that serves them (coordinator or relay), those
// threads take their time from another worker's step, and the coordinator waits for the slowest
// worker: `train --workers 2` on 2 cores ran 3-8% faster with --single-threaded-gc on the
// workers (docs/speed.md, "Round 3"). Where cores are spare, the helper threads cost nobody
// anything and shorten the pauses, so they stay.
import * as os from 'node:os';

export const SINGLE_THREADED_GC_FLAG = '--single-threaded-gc';

/** The flags for `workers` worker processes beside one coordinator or relay on a machine with `cores` cores. */
export function workerNodeFlags(workers: number, cores: number = os.availableParallelism()): string[] {
  return workers + 1 > cores ? [SINGLE_THREADED_GC_FLAG] : [];
}

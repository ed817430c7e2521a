// Which GPU each local worker holds: worker i takes eligible adapter i mod count, told through
// DSDC_GPU (and DSDC_GPU_SHARED_BY when several workers hold the same one).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ListedAdapter } from './dawnAdapters.js';
import { ALLOW_SOFTWARE_ADAPTER_ENV, type BackendOptions, GPU_INDEX_ENV, GPU_SHARED_BY_ENV } from './options.js';
import { eligibleAdapters } from './webgpu.js';

const PRINT_ADAPTERS = fileURLToPath(new URL('./printAdapters.ts', import.meta.url));
/** Dawn's enumeration takes about a second on a software driver; a hung driver must not hang the launcher. */
const ENUMERATION_TIMEOUT_MS = 30_000;

/** The eligible WebGPU adapters of this host, enumerated by Dawn in a child process; [] when none or it fails. */
export function enumerateEligibleAdapters(options: BackendOptions): ListedAdapter[] {
  try {
    const out = execFileSync(process.execPath, ['--import', 'tsx', PRINT_ADAPTERS], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: ENUMERATION_TIMEOUT_MS,
    });
    const lastLine = out.trim().split('\n').pop() ?? '[]';
    return eligibleAdapters(JSON.parse(lastLine) as ListedAdapter[], options.allowSoftwareAdapter);
  } catch {
    return [];
  }
}

export interface WorkerGpu {
  gpu: number;
  sharedBy: number;
}

/** GPU of each of `workers` workers over `gpus` adapters; `fixed` puts every worker on that one. */
export function assignGpus(workers: number, gpus: number, fixed?: number): WorkerGpu[] {
  const chosen = Array.from({ length: workers }, (_, i) => fixed ?? i % gpus);
  return chosen.map((gpu) => ({ gpu, sharedBy: chosen.filter((g) => g === gpu).length }));
}

/** The variables a worker process gets for its GPU and the software-adapter permission. */
export function workerGpuEnv(assignment: WorkerGpu | undefined, options: BackendOptions): Record<string, string> {
  return {
    ...(options.allowSoftwareAdapter ? { [ALLOW_SOFTWARE_ADAPTER_ENV]: '1' } : {}),
    ...(assignment ? { [GPU_INDEX_ENV]: String(assignment.gpu), [GPU_SHARED_BY_ENV]: String(assignment.sharedBy) } : {}),
  };
}

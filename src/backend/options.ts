// What a user may say about the backend besides its name: whether a software WebGPU adapter
// (lavapipe, SwiftShader) may run, and which GPU of the host this process holds. Flags win over
// the environment; the environment is how the local launcher tells each worker its GPU.
import { BackendUnavailableError } from './errors.js';

export const ALLOW_SOFTWARE_ADAPTER_ENV = 'DSDC_ALLOW_SOFTWARE_ADAPTER';
export const GPU_INDEX_ENV = 'DSDC_GPU';
/** Set by the launcher: how many local workers hold the same GPU as this one. */
export const GPU_SHARED_BY_ENV = 'DSDC_GPU_SHARED_BY';

export interface BackendOptions {
  /** A software WebGPU adapter may be used (only ever by an explicit --backend webgpu). */
  allowSoftwareAdapter: boolean;
  /** 0-based index among this host's eligible WebGPU adapters; absent: the first. */
  gpu?: number;
}

/** How a variable says yes or no (DSDC_ALLOW_SOFTWARE_ADAPTER=1, DSDC_EVAL=false). */
export const YES_WORDS: ReadonlySet<string> = new Set(['1', 'true', 'yes', 'on']);
export const NO_WORDS: ReadonlySet<string> = new Set(['', '0', 'false', 'no', 'off']);

export function backendOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): BackendOptions {
  const allow = (env[ALLOW_SOFTWARE_ADAPTER_ENV] ?? '').trim().toLowerCase();
  if (!YES_WORDS.has(allow) && !NO_WORDS.has(allow)) {
    throw new BackendUnavailableError(
      `${ALLOW_SOFTWARE_ADAPTER_ENV}=${JSON.stringify(env[ALLOW_SOFTWARE_ADAPTER_ENV])} is not a yes/no value; use 1 or 0`,
      'WEBGPU_BAD_OPTION',
    );
  }
  const gpuText = env[GPU_INDEX_ENV];
  return {
    allowSoftwareAdapter: YES_WORDS.has(allow),
    ...(gpuText === undefined || gpuText.trim() === '' ? {} : { gpu: parseGpuIndex(gpuText, GPU_INDEX_ENV) }),
  };
}

/** A GPU index from a flag or variable named `source`. */
export function parseGpuIndex(value: unknown, source: string): number {
  const n = typeof value === 'number' ? value : Number(String(value).trim());
  if (!Number.isInteger(n) || n < 0 || String(value).trim() === '') {
    throw new BackendUnavailableError(`${source}: '${String(value)}' is not a GPU index (expected 0, 1, 2, …)`, 'WEBGPU_BAD_OPTION');
  }
  return n;
}

let configured: Partial<BackendOptions> = {};

/** The CLI's flags, applied over the environment for every later initBackend() of this process. */
export function configureBackendOptions(options: Partial<BackendOptions>): void {
  configured = { ...options };
}

export function currentBackendOptions(): BackendOptions {
  const fromEnv = backendOptionsFromEnv();
  return {
    allowSoftwareAdapter: configured.allowSoftwareAdapter === true || fromEnv.allowSoftwareAdapter,
    ...(configured.gpu !== undefined ? { gpu: configured.gpu } : fromEnv.gpu !== undefined ? { gpu: fromEnv.gpu } : {}),
  };
}

// Whether a WebGPU adapter can start here, asked in a child process (the test process never
// holds a Dawn instance), and the environment that lets the CLI use lavapipe. Tests that need an
// adapter skip without one only when CI is unset: in CI they run, and fail if it cannot start.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { LAVAPIPE_ICD } from '../../src/backend/dawnAdapters.js';
import { REPO_ROOT } from './cli.js';

const PROBE_TIMEOUT_MS = 60_000;
const PROBE = `
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  const adapter = await create([]).requestAdapter();
  console.log(adapter === null ? 'none' : 'adapter ' + adapter.info.description);
  process.exit(0);
`;

/** The child environment for a webgpu run on this machine's adapter, software ones allowed. */
export function webgpuEnv(): NodeJS.ProcessEnv {
  const drivers = process.env.VK_DRIVER_FILES ?? process.env.VK_ICD_FILENAMES;
  return {
    ...(drivers === undefined && existsSync(LAVAPIPE_ICD) ? { VK_DRIVER_FILES: LAVAPIPE_ICD } : {}),
    DSDC_ALLOW_SOFTWARE_ADAPTER: '1',
  };
}

export interface AdapterProbe {
  available: boolean;
  /** The adapter's description, or why there is none. */
  detail: string;
}

export function probeWebGpuAdapter(): AdapterProbe {
  try {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', PROBE], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...webgpuEnv() },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: PROBE_TIMEOUT_MS,
    });
    const line = out.trim().split('\n').pop() ?? '';
    return line.startsWith('adapter ') ? { available: true, detail: line.slice('adapter '.length) } : { available: false, detail: 'Dawn found no adapter' };
  } catch (error) {
    return { available: false, detail: (error as Error).message.split('\n')[0] };
  }
}

/** True when the tests must skip: no adapter and not in CI (in CI they run and fail). */
export function skipWithoutAdapter(probe: AdapterProbe, what: string): boolean {
  if (probe.available || process.env.CI) return false;
  console.warn(`skipping ${what}: no WebGPU adapter here (${probe.detail}); install lavapipe (mesa-vulkan-drivers from backports, see .ci/run)`);
  return true;
}

// Whether the Vulkan loader (libvulkan.so.1) can be found, before Dawn is asked for an adapter:
// without it Dawn prints a two-line native warning on stderr (which no log level can hide) in
// every process that merely probes webgpu, as --backend auto does, and finds nothing anyway.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const VULKAN_LOADER = 'libvulkan.so.1';
const LDCONFIG_PATHS = ['/sbin/ldconfig', '/usr/sbin/ldconfig', 'ldconfig'];

/** False only when it is sure: on Linux, neither LD_LIBRARY_PATH nor the linker cache has the loader. */
export function vulkanLoaderFound(env: NodeJS.ProcessEnv = process.env): boolean {
  if (process.platform !== 'linux') return true;
  const dirs = (env['LD_LIBRARY_PATH'] ?? '').split(':').filter(Boolean);
  if (dirs.some((dir) => existsSync(join(dir, VULKAN_LOADER)))) return true;
  for (const ldconfig of LDCONFIG_PATHS) {
    try {
      return execFileSync(ldconfig, ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).includes(VULKAN_LOADER);
    } catch {
      // Not at this path: try the next.
    }
  }
  return true;
}

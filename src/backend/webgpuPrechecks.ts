// What can be known about WebGPU on this host before Dawn is loaded. Dawn writes native warnings
// to stderr that no log level can hide: two lines when the Vulkan loader (libvulkan.so.1) is
// missing, and lines about software adapters (lavapipe) whenever it enumerates them. A process
// that merely probes webgpu, as --backend auto does in every worker, would print them and then
// skip webgpu anyway; these checks let it skip without asking Dawn.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
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

/** Device nodes a hardware GPU has on Linux: DRM render nodes (Mesa's drivers, virtio) and NVIDIA's. */
const GPU_NODE = /^(renderD\d+|nvidia\d+)$/;

/**
 * False only when it is sure there is no hardware GPU: on Linux, neither /dev/dri nor /dev holds
 * a GPU device node (renderD*, nvidia*), so any adapter Dawn could list is a software one.
 */
export function hardwareGpuNodesPresent(): boolean {
  if (process.platform !== 'linux') return true;
  const nodes = (dir: string) => {
    try {
      return readdirSync(dir).filter((name) => GPU_NODE.test(name));
    } catch {
      return [];
    }
  };
  return nodes('/dev/dri').length > 0 || nodes('/dev').length > 0;
}

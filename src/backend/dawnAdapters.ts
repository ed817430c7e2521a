// What Dawn (the npm package `webgpu`) can see: the list of adapters, which of them are software
// rasterisers, and the Dawn options plus environment that make a process take adapter N.
//
// Dawn's Node binding has no "adapter index" option: requestAdapter() takes the first adapter of
// the backend (Vulkan on Linux) whose name contains the `adapter=NAME` option. So:
//   - distinct names: `adapter=NAME` picks the one we want;
//   - identical names (4 × the same GPU): the Vulkan device order must change below Dawn. Mesa's
//     device-select layer (an implicit Vulkan layer, package mesa-vulkan-drivers, applies to every
//     driver including NVIDIA's) does it by PCI address: DRI_PRIME=pci-DDDD_BB_DD_F puts that GPU
//     first, MESA_VK_DEVICE_SELECT_FORCE_DEFAULT_DEVICE=1 hides the others. Without that layer the
//     one sure way is one container per GPU (NVIDIA_VISIBLE_DEVICES=i).
// CUDA_VISIBLE_DEVICES does not reach Vulkan.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { BackendUnavailableError } from './errors.js';

export interface DawnModule {
  create(options: string[]): GPU;
  globals: object;
}

export interface ListedAdapter {
  /** Dawn's backend name: 'vulkan', 'opengles', … */
  backend: string;
  /** The driver's device name, as Dawn prints it. */
  name: string;
  software: boolean;
}

/** Names of CPU rasterisers that expose Vulkan or GL: correct, but far slower than wasm. */
const SOFTWARE_NAMES = /llvmpipe|lavapipe|softpipe|swiftshader|software/i;
/** An adapter name no device has: Dawn then rejects with the list of the adapters it found. */
const NO_SUCH_ADAPTER = 'dsdc-list-adapters-\u0001';
const LISTED_LINE = /^\s*\* backend: '([^']*)', name: '(.*)'\s*$/;

export const DEVICE_SELECT_ENV = { pick: 'DRI_PRIME', only: 'MESA_VK_DEVICE_SELECT_FORCE_DEFAULT_DEVICE' } as const;

export function isSoftwareName(name: string): boolean {
  return SOFTWARE_NAMES.test(name);
}

export async function loadDawn(): Promise<DawnModule> {
  try {
    const specifier: string = 'webgpu';
    return (await import(specifier)) as DawnModule;
  } catch (error) {
    throw new BackendUnavailableError(
      `backend 'webgpu' needs the npm package webgpu (Dawn), which could not be loaded (${(error as Error).message.split('\n')[0]}); ` +
        'run `npm ci` (it is a dependency of dsdc-dist)',
      'BACKEND_UNAVAILABLE',
      error,
    );
  }
}

/** Parses the "Available adapters" list of Dawn's rejection. */
export function parseAdapterList(message: string): ListedAdapter[] {
  return message.split('\n').flatMap((line) => {
    const m = LISTED_LINE.exec(line);
    return m ? [{ backend: m[1], name: m[2], software: isSoftwareName(m[2]) }] : [];
  });
}

/** Every adapter Dawn enumerates for its default backend (or `dawnOptions`' backend=), in order. */
export async function listAdapters(dawn: DawnModule, dawnOptions: string[] = []): Promise<ListedAdapter[]> {
  const gpu = dawn.create([...dawnOptions.filter((o) => !o.startsWith('adapter=')), `adapter=${NO_SUCH_ADAPTER}`]);
  try {
    const adapter = await gpu.requestAdapter();
    // Resolved null: Dawn found no adapter at all (it only rejects when some exist).
    return adapter === null ? [] : [];
  } catch (error) {
    return parseAdapterList(String((error as Error).message ?? error));
  }
}

export interface AdapterPin {
  /** Dawn options for create([...]). */
  dawnOptions: string[];
  /** Variables to set in this process before the Dawn instance is created. */
  env: Record<string, string>;
  /** How the adapter is pinned, for the device line. */
  how: string;
}

/**
 * How to make this process take `eligible[index]`, given everything Dawn lists (`all`, in
 * enumeration order) and the PCI addresses of the host's GPUs in index order (for identical names).
 */
export function pinAdapter(all: readonly ListedAdapter[], eligible: readonly ListedAdapter[], index: number, pciAddresses: readonly string[]): AdapterPin {
  const target = eligible[index];
  const firstMatch = all.find((a) => a.name.includes(target.name));
  const sameName = eligible.filter((a) => a.name === target.name).length;
  if (sameName === 1 && firstMatch === target) {
    return { dawnOptions: [`adapter=${target.name}`], env: {}, how: `Dawn option adapter=${target.name}` };
  }
  // nvidia-smi's order is PCI bus order, and so is the Vulkan driver's: index i is the i-th address,
  // as long as those GPUs are all the eligible adapters.
  const pci = pciAddresses.length === eligible.length ? pciAddresses[index] : undefined;
  if (pci === undefined) {
    throw new BackendUnavailableError(
      `GPU ${index} ("${target.name}") shares its name with ${sameName - 1} other adapter(s), so Dawn's adapter=NAME cannot tell them apart, ` +
        `and nvidia-smi gives ${pciAddresses.length} PCI address(es) for ${eligible.length} adapters; ` +
        `run one container per GPU (NVIDIA_VISIBLE_DEVICES=${index}) instead`,
      'WEBGPU_GPU_INDEX',
    );
  }
  return {
    dawnOptions: [`adapter=${target.name}`],
    env: { [DEVICE_SELECT_ENV.pick]: driPrimeTag(pci), [DEVICE_SELECT_ENV.only]: '1' },
    how: `PCI ${pci} via Mesa device-select (${DEVICE_SELECT_ENV.pick}=${driPrimeTag(pci)})`,
  };
}

/** nvidia-smi's "00000000:41:00.0" → Mesa's "pci-0000_41_00_0". */
export function driPrimeTag(pciAddress: string): string {
  const m = /^(?:([0-9a-f]+):)?([0-9a-f]{1,2}):([0-9a-f]{1,2})\.([0-7])$/i.exec(pciAddress.trim());
  if (!m) throw new BackendUnavailableError(`'${pciAddress}' is not a PCI address (expected DDDD:BB:DD.F)`, 'WEBGPU_GPU_INDEX');
  const domain = (m[1] ?? '0').slice(-4).padStart(4, '0');
  return `pci-${domain}_${m[2].padStart(2, '0')}_${m[3].padStart(2, '0')}_${m[4]}`.toLowerCase();
}

/** PCI addresses of the host's NVIDIA GPUs in nvidia-smi's index order (PCI bus order); [] without the driver. */
export function nvidiaPciAddresses(): string[] {
  try {
    return execFileSync('nvidia-smi', ['--query-gpu=pci.bus_id', '--format=csv,noheader'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '');
  } catch {
    return [];
  }
}

/** Lavapipe's ICD where Debian puts it; tests and CI point VK_DRIVER_FILES at it. */
export const LAVAPIPE_ICD = '/usr/share/vulkan/icd.d/lvp_icd.json';

export function lavapipeInstalled(): boolean {
  return fs.existsSync(LAVAPIPE_ICD);
}

// The webgpu backend in Node: @tensorflow/tfjs-backend-webgpu on a device from Dawn (npm
// package `webgpu`), with our WGSL kernels (src/ops/webgpu). We pick the adapter ourselves (see
// dawnAdapters.ts) and register the tfjs backend on that device, rather than letting the package
// ask navigator.gpu for "some" adapter at import time.
import * as tf from '@tensorflow/tfjs';
import { registerWebGpuKernels } from '../ops/webgpu/registerWebGpuKernels.js';
import { type DawnModule, type ListedAdapter, listAdapters, loadDawn, nvidiaPciAddresses, pinAdapter, isSoftwareName, LAVAPIPE_ICD } from './dawnAdapters.js';
import { BackendUnavailableError } from './errors.js';
import { VULKAN_LOADER, vulkanLoaderFound } from './webgpuPrechecks.js';
import { ALLOW_SOFTWARE_ADAPTER_ENV, type BackendOptions, GPU_INDEX_ENV, GPU_SHARED_BY_ENV } from './options.js';

export const WEBGPU_BACKEND = 'webgpu';

export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  software: boolean;
  /** 0-based index among the eligible adapters, and their count. */
  index: number;
  count: number;
  pinnedBy: string;
}

export interface WebGpuBackendInfo {
  backend: 'webgpu';
  device: string;
  adapter: AdapterDescription;
}

type Log = (msg: string) => void;

let active: { key: string; info: WebGpuBackendInfo } | undefined;

/** Eligible adapters: hardware ones, then software ones when allowed. */
export function eligibleAdapters(all: readonly ListedAdapter[], allowSoftware: boolean): ListedAdapter[] {
  const hardware = all.filter((a) => !a.software);
  return allowSoftware ? [...hardware, ...all.filter((a) => a.software)] : hardware;
}

/** The adapters Dawn sees on this host, for `auto` and the launcher. */
export async function listWebGpuAdapters(): Promise<ListedAdapter[]> {
  if (!vulkanLoaderFound()) throw noAdapterError(`the Vulkan loader ${VULKAN_LOADER} is not installed`);
  const dawn = await loadDawn();
  return listAdapters(dawn);
}

export async function initWebGpu(options: BackendOptions, log: Log = () => {}): Promise<WebGpuBackendInfo> {
  const key = JSON.stringify(options);
  if (active?.key === key && tf.findBackend(WEBGPU_BACKEND) !== null) {
    await activate();
    return active.info;
  }
  if (!vulkanLoaderFound()) throw noAdapterError(`the Vulkan loader ${VULKAN_LOADER} is not installed`);
  const dawn = await loadDawn();
  Object.assign(globalThis, dawn.globals);
  const all = await listAdapters(dawn);
  if (all.length === 0) throw noAdapterError();
  const eligible = eligibleAdapters(all, options.allowSoftwareAdapter);
  if (eligible.length === 0) throw softwareOnlyError(all);
  const index = options.gpu ?? 0;
  if (index >= eligible.length) {
    throw new BackendUnavailableError(
      `--gpu / ${GPU_INDEX_ENV} asks for GPU ${index}, but this host has ${eligible.length} eligible WebGPU adapter(s) ` +
        `(${eligible.map((a, i) => `${i}: ${a.name}`).join('; ')}); use 0 to ${eligible.length - 1}`,
      'WEBGPU_GPU_INDEX',
    );
  }
  const pin = pinAdapter(all, eligible, index, needsPci(eligible, index) ? nvidiaPciAddresses() : []);
  // The Vulkan layer reads these when Dawn creates its instance, below.
  Object.assign(process.env, pin.env);
  if (Object.keys(pin.env).length > 0) await checkPinTookEffect(dawn, eligible[index], log);

  const gpu = dawn.create(pin.dawnOptions);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (adapter === null) throw noAdapterError();
  const description = describeAdapter(adapter.info, index, eligible.length, pin.how);
  if (description.software && !options.allowSoftwareAdapter) throw softwareOnlyError(all);

  const device = await adapter.requestDevice(deviceDescriptor(adapter));
  device.lost.then((lost) => {
    if (lost.reason !== 'destroyed') log(`webgpu: the device was lost (${lost.reason}: ${lost.message})`);
  }).catch(() => {});
  // Registered under navigator.gpu for code that looks for it; tfjs-backend-webgpu must import after it.
  (globalThis as { navigator?: unknown }).navigator ??= { gpu };
  const { WebGPUBackend } = (await import('@tensorflow/tfjs-backend-webgpu')) as unknown as {
    WebGPUBackend: new (device: GPUDevice, info?: GPUAdapterInfo) => tf.KernelBackend;
  };
  // Small ops would otherwise run on the CPU with a read-back each (WEBGPU_CPU_FORWARD).
  tf.env().set('WEBGPU_CPU_FORWARD', false);
  if (tf.findBackend(WEBGPU_BACKEND) !== null || tf.engine().registryFactory[WEBGPU_BACKEND] !== undefined) tf.removeBackend(WEBGPU_BACKEND);
  const backend = new WebGPUBackend(device, adapter.info);
  tf.registerBackend(WEBGPU_BACKEND, () => backend, 0);
  registerWebGpuKernels();
  await activate();

  const info: WebGpuBackendInfo = { backend: 'webgpu', device: deviceLine(description), adapter: description };
  active = { key, info };
  return info;
}

async function activate(): Promise<void> {
  if (!(await tf.setBackend(WEBGPU_BACKEND))) throw new BackendUnavailableError(`tfjs backend '${WEBGPU_BACKEND}' failed to initialise`);
  await tf.ready();
}

function needsPci(eligible: readonly ListedAdapter[], index: number): boolean {
  return eligible.filter((a) => a.name === eligible[index].name).length > 1;
}

async function checkPinTookEffect(dawn: DawnModule, target: ListedAdapter, log: Log): Promise<void> {
  const after = (await listAdapters(dawn)).filter((a) => a.name === target.name);
  if (after.length !== 1) {
    log(
      `webgpu: ${after.length} adapters named "${target.name}" are still visible after pinning by PCI address: ` +
        "Mesa's device-select Vulkan layer (package mesa-vulkan-drivers) seems absent, so this process takes the first of them; " +
        'install it, or run one container per GPU (NVIDIA_VISIBLE_DEVICES=i)',
    );
  }
}

function deviceDescriptor(adapter: GPUAdapter): GPUDeviceDescriptor {
  const limits = adapter.limits;
  return {
    requiredFeatures: adapter.features.has('timestamp-query') ? ['timestamp-query'] : [],
    // The same limits tfjs-backend-webgpu asks for: the defaults cap buffers at 128 MiB.
    requiredLimits: {
      maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
      maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
      maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
      maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
    },
  };
}

export function describeAdapter(info: GPUAdapterInfo, index: number, count: number, pinnedBy: string): AdapterDescription {
  const fallback = (info as { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  const software = fallback || info.architecture === 'software' || isSoftwareName(`${info.device} ${info.description}`);
  return {
    vendor: info.vendor || 'unknown vendor',
    architecture: info.architecture || 'unknown architecture',
    device: info.device,
    description: info.description || info.device || 'no description',
    software,
    index,
    count,
    pinnedBy,
  };
}

export function deviceLine(a: AdapterDescription): string {
  const sharedBy = Number(process.env[GPU_SHARED_BY_ENV] ?? '1');
  const sharing = sharedBy > 1 ? `, shared by ${sharedBy} workers of this host` : '';
  const kind = a.software ? 'software adapter' : 'hardware';
  return `${a.software ? 'cpu' : 'gpu'} (webgpu via Dawn: ${a.description}; vendor ${a.vendor}, architecture ${a.architecture}, ${kind}; GPU ${a.index} of ${a.count}${sharing})`;
}

function noAdapterError(why?: string): BackendUnavailableError {
  const drivers = process.env['VK_DRIVER_FILES'] ?? process.env['VK_ICD_FILENAMES'];
  return new BackendUnavailableError(
    `backend 'webgpu': ${why ?? 'Dawn found no WebGPU adapter'} (Vulkan${drivers ? `, VK_DRIVER_FILES=${drivers}` : ''}). ` +
      'Install the Vulkan loader (libvulkan1) and your GPU\'s Vulkan driver (NVIDIA: the driver\'s nvidia_icd.json; in a container ' +
      'NVIDIA_DRIVER_CAPABILITIES must include graphics); for a software adapter install Mesa 23 or newer\'s lavapipe ' +
      `(mesa-vulkan-drivers, e.g. from bookworm-backports) and set VK_DRIVER_FILES=${LAVAPIPE_ICD}`,
    'WEBGPU_NO_ADAPTER',
  );
}

function softwareOnlyError(all: readonly ListedAdapter[]): BackendUnavailableError {
  return new BackendUnavailableError(
    `backend 'webgpu': the only WebGPU adapter here is a software one (${all.map((a) => a.name).join(', ')}), far slower than ` +
      `--backend wasm; pass --allow-software-adapter (or set ${ALLOW_SOFTWARE_ADAPTER_ENV}=1) to use it anyway`,
    'WEBGPU_SOFTWARE_ADAPTER_ONLY',
  );
}

// Chooses and initialises the TensorFlow.js backend. The only module that imports the optional
// native bindings (@tensorflow/tfjs-node, @tensorflow/tfjs-node-gpu) and the wasm backend; they
// are loaded with dynamic import() so that type-checking and `npm ci` never need them.
//
//   auto:            a hardware WebGPU adapter, then tfjs-node-gpu if it imports and a GPU is
//                    visible, then tfjs-node, then wasm (with our kernels from src/ops/wasm), then
//                    the pure-JS cpu backend. Never a software WebGPU adapter.
//   webgpu:          @tensorflow/tfjs-backend-webgpu on Dawn (npm package webgpu) + our WGSL
//                    kernels (src/ops/webgpu); see webgpu.ts. A software adapter (lavapipe) only
//                    with allowSoftwareAdapter (--allow-software-adapter, DSDC_ALLOW_SOFTWARE_ADAPTER=1).
//   tensorflow-gpu:  @tensorflow/tfjs-node-gpu. TF_FORCE_GPU_ALLOW_GROWTH=true is set first when
//                    unset, so that TensorFlow does not reserve all GPU memory up front.
//   tensorflow:      @tensorflow/tfjs-node (libtensorflow on the CPU).
//   wasm:            @tensorflow/tfjs-backend-wasm (SIMD, one thread in Node) + our kernels.
//   cpu:             @tensorflow/tfjs-backend-cpu (plain JS; slow, for reference and tests).
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { activeKernelMath, enableRelaxedSimd, kernelMathFromEnv, registerWasmKernels } from '../ops/wasm/registerWasmKernels.js';
import { BackendUnavailableError } from './errors.js';
import { type BackendOptions, currentBackendOptions } from './options.js';
import { type AdapterDescription, initWebGpu } from './webgpu.js';
import { hardwareGpuNodesPresent } from './webgpuPrechecks.js';

export { BackendUnavailableError } from './errors.js';
export {
  ALLOW_SOFTWARE_ADAPTER_ENV,
  type BackendOptions,
  GPU_INDEX_ENV,
  GPU_SHARED_BY_ENV,
  backendOptionsFromEnv,
  configureBackendOptions,
  currentBackendOptions,
  parseGpuIndex,
} from './options.js';
export { type AdapterDescription, WEBGPU_BACKEND, eligibleAdapters, listWebGpuAdapters } from './webgpu.js';

export const BACKEND_CHOICES = ['auto', 'webgpu', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

export interface BackendInfo {
  /** tfjs backend name: 'webgpu', 'tensorflow', 'wasm' or 'cpu'. */
  backend: string;
  /** What computes, in words: 'gpu (libtensorflow)', 'cpu (wasm simd, 1 thread, dsdc kernels: simd)'. */
  device: string;
  /** The WebGPU adapter, for backend 'webgpu'. */
  adapter?: AdapterDescription;
}

type Log = (msg: string) => void;

const PACKAGES = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
} as const;

/** `options` default to the CLI's flags over the environment (DSDC_ALLOW_SOFTWARE_ADAPTER, DSDC_GPU). */
export async function initBackend(choice: BackendChoice, log: Log = () => {}, options: BackendOptions = currentBackendOptions()): Promise<BackendInfo> {
  if (!(BACKEND_CHOICES as readonly string[]).includes(choice)) {
    throw new BackendUnavailableError(`unknown backend '${String(choice)}'; expected one of ${BACKEND_CHOICES.join(', ')}`);
  }
  switch (choice) {
    case 'webgpu': {
      const info = await initWebGpu(options, log);
      log(`backend: webgpu, ${info.device}`);
      return info;
    }
    case 'tensorflow-gpu':
      return initTensorflowGpu();
    case 'tensorflow':
      return initTensorflow();
    case 'wasm':
      return initWasm();
    case 'cpu':
      return initCpu();
    case 'auto':
      return initAuto(log, options);
  }
}

/**
 * The backend of a process that trains no replica (the coordinator: Adam on host arrays,
 * evaluation, checkpoints): never webgpu, whose tensors cannot be read synchronously and whose
 * GPU belongs to the workers. webgpu becomes wasm; auto skips webgpu.
 */
export async function initHostBackend(choice: BackendChoice, log: Log = () => {}): Promise<BackendInfo> {
  if (choice === 'webgpu') {
    const info = await initWasm();
    log(`backend: wasm for this process (${info.device}); the workers compute on webgpu`);
    return info;
  }
  if (choice === 'auto') return initAuto(log, currentBackendOptions(), false);
  return initBackend(choice, log);
}

async function initAuto(log: Log, options: BackendOptions, tryWebGpu = true): Promise<BackendInfo> {
  const reasons: string[] = [];
  if (tryWebGpu && !hardwareGpuNodesPresent()) {
    reasons.push('webgpu: no GPU device (/dev/dri/renderD*, /dev/nvidia*), so at most a software adapter, never chosen by auto');
  } else if (tryWebGpu) {
    try {
      // Never a software adapter: lavapipe is far slower than wasm, so that takes an explicit choice.
      const info = await initWebGpu({ ...options, allowSoftwareAdapter: false }, log);
      log(`backend: webgpu (a hardware adapter), ${info.device}`);
      return info;
    } catch (error) {
      reasons.push(`webgpu: ${autoReason(error)}`);
    }
  }
  const gpu = gpuVisibility();
  if (gpu.visible) {
    try {
      const info = await initTensorflowGpu();
      log(`backend: tensorflow-gpu (${gpu.why})`);
      return info;
    } catch (error) {
      reasons.push(`tensorflow-gpu: ${(error as Error).message}`);
    }
  } else {
    reasons.push(`tensorflow-gpu: ${gpu.why}`);
  }
  for (const [name, init] of [
    ['tensorflow', initTensorflow],
    ['wasm', initWasm],
  ] as const) {
    try {
      const info = await init();
      log(`backend: ${name} (${info.device}); skipped ${reasons.join('; ')}`);
      return info;
    } catch (error) {
      reasons.push(`${name}: ${(error as Error).message}`);
    }
  }
  const info = await initCpu();
  log(`backend: cpu (slow); skipped ${reasons.join('; ')}`);
  return info;
}

/** One short clause per skipped webgpu, for auto's single line. */
function autoReason(error: unknown): string {
  if (error instanceof BackendUnavailableError) {
    if (error.code === 'WEBGPU_NO_ADAPTER') return 'no WebGPU adapter (no Vulkan driver found)';
    if (error.code === 'WEBGPU_SOFTWARE_ADAPTER_ONLY') return 'only a software adapter, never chosen by auto (--backend webgpu --allow-software-adapter uses it)';
  }
  return (error as Error).message.split('\n')[0];
}

async function importOptional(choice: keyof typeof PACKAGES): Promise<unknown> {
  const packageName = PACKAGES[choice];
  try {
    // A variable specifier keeps TypeScript from resolving packages that may not be installed.
    const specifier: string = packageName;
    return await import(specifier);
  } catch (error) {
    throw new BackendUnavailableError(
      `backend '${choice}' needs the npm package ${packageName}, which could not be loaded ` +
        `(${(error as Error).message.split('\n')[0]}); install it with \`npm install ${packageName}@${tf.version.tfjs}\``,
      'BACKEND_UNAVAILABLE',
      error,
    );
  }
}

async function activate(name: string): Promise<void> {
  if (!(await tf.setBackend(name))) {
    throw new BackendUnavailableError(`tfjs backend '${name}' failed to initialise`);
  }
  await tf.ready();
}

async function initTensorflowGpu(): Promise<BackendInfo> {
  process.env['TF_FORCE_GPU_ALLOW_GROWTH'] ??= 'true';
  await importOptional('tensorflow-gpu');
  await activate('tensorflow');
  return { backend: 'tensorflow', device: 'gpu (libtensorflow, CUDA)' };
}

async function initTensorflow(): Promise<BackendInfo> {
  await importOptional('tensorflow');
  await activate('tensorflow');
  return { backend: 'tensorflow', device: 'cpu (libtensorflow)' };
}

async function initWasm(): Promise<BackendInfo> {
  kernelMathFromEnv(); // a bad DSDC_WASM_KERNELS stops here, before any work
  const wasm = (await importOptional('wasm')) as { getThreadsCount?: () => number };
  // Before any module compiles: the fused multiply-add build of our kernels needs relaxed SIMD,
  // behind a V8 flag in Node 20 (every process that runs the wasm backend passes here).
  enableRelaxedSimd();
  registerWasmKernels();
  await activate('wasm');
  const threads = wasm.getThreadsCount?.() ?? 1;
  return { backend: 'wasm', device: `cpu (wasm, ${threads} thread${threads === 1 ? '' : 's'}, dsdc kernels: ${activeKernelMath()})` };
}

async function initCpu(): Promise<BackendInfo> {
  await activate('cpu');
  quietCpuBanner();
  return { backend: 'cpu', device: 'cpu (plain JavaScript)' };
}

/**
 * The cpu backend prints a "Hi, looks like you are running TensorFlow.js in Node.js … install
 * tfjs-node" banner on its first write. Work done before initBackend (reading a checkpoint to
 * fine-tune) runs on it by default, and the backend is chosen and reported separately anyway.
 */
export function quietCpuBanner(): void {
  const current = tf.backend() as unknown as { firstUse?: boolean };
  if (current.firstUse !== undefined) current.firstUse = false;
}

/** A GPU counts as visible when the NVIDIA driver lists one and CUDA_VISIBLE_DEVICES allows it. */
function gpuVisibility(): { visible: boolean; why: string } {
  const mask = process.env['CUDA_VISIBLE_DEVICES'];
  if (mask !== undefined && (mask.trim() === '' || mask.trim() === '-1')) {
    return { visible: false, why: `CUDA_VISIBLE_DEVICES=${JSON.stringify(mask)} hides every GPU` };
  }
  try {
    const gpus = fs.readdirSync('/proc/driver/nvidia/gpus');
    if (gpus.length > 0) return { visible: true, why: `${gpus.length} NVIDIA GPU(s) listed by the driver` };
  } catch {
    // No NVIDIA driver (or not Linux): fall through.
  }
  return { visible: false, why: 'no NVIDIA GPU visible (/proc/driver/nvidia/gpus is absent or empty)' };
}

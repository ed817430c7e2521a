// Chooses and initialises the TensorFlow.js backend. The only module that imports the optional
// native bindings (@tensorflow/tfjs-node, @tensorflow/tfjs-node-gpu) and the wasm backend; they
// are loaded with dynamic import() so that type-checking and `npm ci` never need them.
//
//   auto:            tfjs-node-gpu if it imports and a GPU is visible, then tfjs-node, then wasm
//                    (with our kernels from src/ops/wasm), then the pure-JS cpu backend.
//   tensorflow-gpu:  @tensorflow/tfjs-node-gpu. TF_FORCE_GPU_ALLOW_GROWTH=true is set first when
//                    unset, so that TensorFlow does not reserve all GPU memory up front.
//   tensorflow:      @tensorflow/tfjs-node (libtensorflow on the CPU).
//   wasm:            @tensorflow/tfjs-backend-wasm (SIMD, one thread in Node) + our kernels.
//   cpu:             @tensorflow/tfjs-backend-cpu (plain JS; slow, for reference and tests).
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { registerWasmKernels, activeKernelMath } from '../ops/wasm/registerWasmKernels.js';
import { CodedError } from '../errors/codedError.js';

export const BACKEND_CHOICES = ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

export interface BackendInfo {
  /** tfjs backend name: 'tensorflow', 'wasm' or 'cpu'. */
  backend: string;
  /** What computes, in words: 'gpu (libtensorflow)', 'cpu (wasm simd, 1 thread, dsdc kernels: simd)'. */
  device: string;
}

export class BackendUnavailableError extends CodedError<'BACKEND_UNAVAILABLE'> {
  constructor(message: string) {
    super('BACKEND_UNAVAILABLE', message);
  }
}

type Log = (msg: string) => void;

const PACKAGES = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
} as const;

export async function initBackend(choice: BackendChoice, log: Log = () => {}): Promise<BackendInfo> {
  if (!(BACKEND_CHOICES as readonly string[]).includes(choice)) {
    throw new BackendUnavailableError(`unknown backend '${String(choice)}'; expected one of ${BACKEND_CHOICES.join(', ')}`);
  }
  switch (choice) {
    case 'tensorflow-gpu':
      return initTensorflowGpu();
    case 'tensorflow':
      return initTensorflow();
    case 'wasm':
      return initWasm();
    case 'cpu':
      return initCpu();
    case 'auto':
      return initAuto(log);
  }
}

async function initAuto(log: Log): Promise<BackendInfo> {
  const reasons: string[] = [];
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
  const wasm = (await importOptional('wasm')) as { getThreadsCount?: () => number };
  registerWasmKernels();
  await activate('wasm');
  const threads = wasm.getThreadsCount?.() ?? 1;
  return { backend: 'wasm', device: `cpu (wasm, ${threads} thread${threads === 1 ? '' : 's'}, dsdc kernels: ${activeKernelMath()})` };
}

async function initCpu(): Promise<BackendInfo> {
  await activate('cpu');
  // The cpu backend prints an "install tfjs-node" banner on its first write; the user chose it.
  (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
  return { backend: 'cpu', device: 'cpu (plain JavaScript)' };
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

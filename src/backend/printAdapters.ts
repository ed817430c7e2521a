// Prints the WebGPU adapters Dawn enumerates on this host as one JSON line. Run as its own
// process by the local launcher (gpuAssignment.ts), so that the launcher never holds a Dawn
// instance of its own.
import { listWebGpuAdapters } from './webgpu.js';

process.stdout.write(`${JSON.stringify(await listWebGpuAdapters())}\n`);

// Prints, as one JSON line, the WebGPU adapter Dawn gives this process (what the benchmark runs
// on), or exits 1 when there is none. Argument: the path of the `webgpu` package's index.js.
import { pathToFileURL } from 'node:url';

const webgpuIndex = process.argv[2];
if (!webgpuIndex) {
  process.stderr.write('usage: node adapter.mjs PATH/TO/webgpu/index.js\n');
  process.exit(2);
}
const { create, globals } = await import(pathToFileURL(webgpuIndex).href);
Object.assign(globalThis, globals);
const adapter = await create([]).requestAdapter({ powerPreference: 'high-performance' });
if (adapter === null) {
  process.stderr.write('adapter.mjs: Dawn returned no adapter (no usable Vulkan driver)\n');
  process.exit(1);
}
const { vendor, architecture, device, description } = adapter.info;
process.stdout.write(
  `${JSON.stringify({
    vendor,
    architecture,
    device,
    description,
    fallback: adapter.info.isFallbackAdapter === true,
    maxBufferSize: adapter.limits.maxBufferSize,
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
  })}\n`,
);
// Dawn keeps the process alive while an instance exists.
process.exit(0);

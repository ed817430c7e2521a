// The webgpu flags through the real CLI, in real processes: the errors a user gets, and the GPU
// each local worker of `train --workers N` is given and reports.
import { describe, expect, it } from 'vitest';
import { listAdapters, loadDawn } from '../../src/backend/dawnAdapters.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { startWebGpu, useLavapipeWhenUnset } from './webgpuAvailability.js';

useLavapipeWhenUnset();
const adapters = await listAdapters(await loadDawn());
const softwareOnly = adapters.length > 0 && adapters.every((a) => a.software);
const gpu = await startWebGpu();
const TINY = ['--train-limit', '64', '--test-limit', '32', '--batch-size', '8', '--max-steps', '1', '--widths', '8,8', '--dilations', '1,2', '--stem-filters', '4', '--no-eval'];

describe('webgpu on the command line', () => {
  it.runIf(softwareOnly)('--backend webgpu on a host with only a software adapter tells to pass --allow-software-adapter', async () => {
    const r = await runCli(['worker', '--standalone', '--backend', 'webgpu', '--run-dir', tempDir('sw'), ...TINY]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/only WebGPU adapter here is a software one .*--allow-software-adapter/);
  });

  it('--backend webgpu with no Vulkan driver names what to install and VK_DRIVER_FILES', async () => {
    const r = await runCli(['worker', '--standalone', '--backend', 'webgpu', '--allow-software-adapter', '--run-dir', tempDir('none'), ...TINY], {
      env: { VK_DRIVER_FILES: '/nonexistent/icd.json', VK_ICD_FILENAMES: '' },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/(Dawn found no WebGPU adapter|the Vulkan loader libvulkan\.so\.1 is not installed) .*libvulkan1.*VK_DRIVER_FILES=/);
  });

  it('--gpu that is not an index is refused, naming the flag', async () => {
    const r = await runCli(['worker', '--standalone', '--backend', 'webgpu', '--gpu', 'first', ...TINY]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--gpu: 'first' is not a GPU index/);
  });

  it.skipIf(gpu.skip)('train --workers 2 gives both workers GPU 0 of the one adapter, and each says it shares it', async () => {
    const r = await runCli(['train', '--workers', '2', '--backend', 'webgpu', '--allow-software-adapter', '--run-dir', tempDir('share'), '--log-level', 'debug', ...TINY], { timeoutMs: 180_000 });
    const out = r.stdout + r.stderr;
    expect(r.code, out.slice(-2000)).toBe(0);
    expect(out).toMatch(/\[launcher\] webgpu: 1 adapter\(s\) .*local-0 → GPU 0, local-1 → GPU 0 \(workers on the same GPU share it\)/);
    for (const worker of ['local-0', 'local-1']) {
      expect(out).toMatch(new RegExp(`\\[worker ${worker}\\] backend: webgpu, .*GPU 0 of 1, shared by 2 workers of this host`));
    }
  });
});

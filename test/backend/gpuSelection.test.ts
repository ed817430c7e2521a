// Which WebGPU adapter a process takes: Dawn's enumeration, the pin for GPU N (Dawn's
// adapter=NAME, or Mesa's device-select by PCI address when names are identical), the software
// rule, and the GPU each local worker is given.
import { describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import { driPrimeTag, listAdapters, loadDawn, type ListedAdapter, parseAdapterList, pinAdapter } from '../../src/backend/dawnAdapters.js';
import { assignGpus, workerGpuEnv } from '../../src/backend/gpuAssignment.js';
import { backendOptionsFromEnv } from '../../src/backend/options.js';
import { eligibleAdapters } from '../../src/backend/webgpu.js';
import { useLavapipeWhenUnset } from './webgpuAvailability.js';

// Dawn's rejection text, as src/dawn/node/binding/GPU.cpp writes it, for a 4-GPU host with lavapipe installed too.
const FOUR_H200 = [
  'no suitable backends found',
  'Available adapters:',
  " * backend: 'vulkan', name: 'NVIDIA H200'",
  " * backend: 'vulkan', name: 'NVIDIA H200'",
  " * backend: 'vulkan', name: 'NVIDIA H200'",
  " * backend: 'vulkan', name: 'NVIDIA H200'",
  " * backend: 'vulkan', name: 'llvmpipe (LLVM 15.0.6, 256 bits)'",
].join('\n');
const PCI = ['00000000:19:00.0', '00000000:3B:00.0', '00000000:4C:00.0', '00000000:5D:00.0'];
const adapter = (name: string, software = false): ListedAdapter => ({ backend: 'vulkan', name, software });

describe("Dawn's adapter list", () => {
  it('parses every adapter and marks the software rasteriser', () => {
    const all = parseAdapterList(FOUR_H200);
    expect(all).toHaveLength(5);
    expect(all.filter((a) => a.software).map((a) => a.name)).toEqual(['llvmpipe (LLVM 15.0.6, 256 bits)']);
  });

  it('enumerates the adapters of this machine for real (lavapipe here, marked software)', async () => {
    useLavapipeWhenUnset();
    const all = await listAdapters(await loadDawn());
    for (const a of all) expect(a.software).toBe(/llvmpipe|lavapipe|swiftshader/i.test(a.name));
    if (process.env['CI']) expect(all.length).toBeGreaterThan(0);
  });

  it('counts software adapters as eligible only with the permission, after the hardware ones', () => {
    const all = parseAdapterList(FOUR_H200);
    expect(eligibleAdapters(all, false)).toHaveLength(4);
    expect(eligibleAdapters(all, true).map((a) => a.software)).toEqual([false, false, false, false, true]);
  });
});

describe('pinning a process to GPU N', () => {
  it('uses Dawn’s adapter=NAME when the name is unique', () => {
    const all = [adapter('NVIDIA RTX 4090'), adapter('AMD Radeon RX 7900 XTX')];
    const pin = pinAdapter(all, all, 1, []);
    expect(pin.dawnOptions).toEqual(['adapter=AMD Radeon RX 7900 XTX']);
    expect(pin.env).toEqual({});
  });

  it('pins identical GPUs by PCI address through Mesa’s device-select layer', () => {
    const all = parseAdapterList(FOUR_H200);
    const pin = pinAdapter(all, eligibleAdapters(all, false), 2, PCI);
    expect(pin.env).toEqual({ DRI_PRIME: 'pci-0000_4c_00_0', MESA_VK_DEVICE_SELECT_FORCE_DEFAULT_DEVICE: '1' });
    expect(pin.dawnOptions).toEqual(['adapter=NVIDIA H200']);
  });

  it('does not trust adapter=NAME when an earlier adapter’s name contains it', () => {
    const all = [adapter('NVIDIA H200 NVL'), adapter('NVIDIA H200')];
    expect(pinAdapter(all, all, 1, ['0000:01:00.0', '0000:02:00.0']).env.DRI_PRIME).toBe('pci-0000_02_00_0');
  });

  it('refuses identical GPUs it cannot tell apart, pointing at one container per GPU', () => {
    const all = parseAdapterList(FOUR_H200);
    expect(() => pinAdapter(all, eligibleAdapters(all, false), 1, [])).toThrow(/NVIDIA_VISIBLE_DEVICES=1/);
  });

  it("turns nvidia-smi's PCI bus ids into Mesa's tag and refuses anything else", () => {
    expect(driPrimeTag('00000000:41:00.0')).toBe('pci-0000_41_00_0');
    expect(driPrimeTag('0000:0a:1f.3')).toBe('pci-0000_0a_1f_3');
    expect(() => driPrimeTag('GPU-1234')).toThrow(/not a PCI address/);
  });
});

describe('GPUs of the local workers', () => {
  it('gives worker i GPU i mod count and says how many share each', () => {
    expect(assignGpus(4, 4)).toEqual([0, 1, 2, 3].map((gpu) => ({ gpu, sharedBy: 1 })));
    expect(assignGpus(3, 2)).toEqual([{ gpu: 0, sharedBy: 2 }, { gpu: 1, sharedBy: 1 }, { gpu: 0, sharedBy: 2 }]);
    expect(assignGpus(2, 4, 3)).toEqual([{ gpu: 3, sharedBy: 2 }, { gpu: 3, sharedBy: 2 }]);
  });

  it('passes the GPU and the software permission to the worker’s environment', () => {
    expect(workerGpuEnv({ gpu: 1, sharedBy: 2 }, { allowSoftwareAdapter: true })).toEqual({ DSDC_ALLOW_SOFTWARE_ADAPTER: '1', DSDC_GPU: '1', DSDC_GPU_SHARED_BY: '2' });
    expect(workerGpuEnv(undefined, { allowSoftwareAdapter: false })).toEqual({});
  });
});

describe('backend options from the environment', () => {
  it('reads DSDC_GPU and DSDC_ALLOW_SOFTWARE_ADAPTER', () => {
    expect(backendOptionsFromEnv({ DSDC_GPU: '2', DSDC_ALLOW_SOFTWARE_ADAPTER: '1' })).toEqual({ gpu: 2, allowSoftwareAdapter: true });
    expect(backendOptionsFromEnv({})).toEqual({ allowSoftwareAdapter: false });
  });

  it('names the variable and the value it cannot read', () => {
    expect(() => backendOptionsFromEnv({ DSDC_GPU: 'first' })).toThrow(/DSDC_GPU: 'first' is not a GPU index/);
    expect(() => backendOptionsFromEnv({ DSDC_GPU: '-1' })).toThrow(/DSDC_GPU/);
    expect(() => backendOptionsFromEnv({ DSDC_ALLOW_SOFTWARE_ADAPTER: 'maybe' })).toThrow(/DSDC_ALLOW_SOFTWARE_ADAPTER="maybe"/);
  });
});

describe('the software-adapter rule on this machine', async () => {
  useLavapipeWhenUnset();
  const all = await listAdapters(await loadDawn());
  const softwareOnly = all.length > 0 && all.every((a) => a.software);

  it.runIf(softwareOnly)('--backend webgpu without the permission refuses a software-only host and names the flag', async () => {
    await expect(initBackend('webgpu', () => {}, { allowSoftwareAdapter: false })).rejects.toMatchObject({
      code: 'WEBGPU_SOFTWARE_ADAPTER_ONLY',
      message: expect.stringMatching(/--allow-software-adapter.*DSDC_ALLOW_SOFTWARE_ADAPTER=1/),
    });
  });

  it.runIf(softwareOnly)('auto never takes the software adapter and says why it skipped webgpu', async () => {
    const lines: string[] = [];
    const info = await initBackend('auto', (l) => lines.push(l), { allowSoftwareAdapter: true });
    expect(info.backend).not.toBe('webgpu');
    expect(lines[0]).toMatch(/webgpu: (only a software adapter|no GPU device .*, so at most a software adapter), never chosen by auto/);
  });

  it.runIf(all.length > 0)('a GPU index past the adapters is an error that lists them', async () => {
    await expect(initBackend('webgpu', () => {}, { allowSoftwareAdapter: true, gpu: all.length + 3 })).rejects.toMatchObject({
      code: 'WEBGPU_GPU_INDEX',
      message: expect.stringMatching(new RegExp(`GPU ${all.length + 3}.*0: `)),
    });
  });
});

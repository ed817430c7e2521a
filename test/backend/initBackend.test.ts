// initBackend: the choices, what each selects, and the errors for packages that are missing.
import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { BACKEND_CHOICES, initBackend } from '../../src/backend/index.js';

const installed = (name: string) => {
  try {
    createRequire(import.meta.url).resolve(name);
    return true;
  } catch {
    return false;
  }
};

describe('initBackend', () => {
  it('offers auto, webgpu, tensorflow-gpu, tensorflow, wasm and cpu', () => {
    expect([...BACKEND_CHOICES]).toEqual(['auto', 'webgpu', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']);
  });

  it('wasm selects the wasm backend with the SIMD kernels', async () => {
    const info = await initBackend('wasm');
    expect(info.backend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(info.device).toContain('dsdc kernels: fma');
  });

  it('cpu selects the plain JavaScript backend', async () => {
    const info = await initBackend('cpu');
    expect(info).toEqual({ backend: 'cpu', device: 'cpu (plain JavaScript)' });
    expect(tf.getBackend()).toBe('cpu');
  });

  it.skipIf(installed('@tensorflow/tfjs-node'))('tensorflow names the npm package to install when it is missing', async () => {
    await expect(initBackend('tensorflow')).rejects.toThrow(/npm install @tensorflow\/tfjs-node@/);
  });

  it.skipIf(installed('@tensorflow/tfjs-node-gpu'))('tensorflow-gpu names the npm package to install when it is missing', async () => {
    await expect(initBackend('tensorflow-gpu')).rejects.toThrow(/@tensorflow\/tfjs-node-gpu/);
  });

  it('auto says which backend it chose and why the others were skipped', async () => {
    const lines: string[] = [];
    const info = await initBackend('auto', (line) => lines.push(line));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`backend: ${info.backend}`);
    if (!installed('@tensorflow/tfjs-node')) expect(lines[0]).toContain('@tensorflow/tfjs-node');
  });

  it('rejects an unknown choice with the list of valid ones', async () => {
    await expect(initBackend('webgl' as never)).rejects.toThrow(/auto, webgpu, tensorflow-gpu, tensorflow, wasm, cpu/);
  });
});

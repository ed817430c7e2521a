// Which build of the wasm kernels a process runs: the relaxed-SIMD one (fused multiply-adds)
// wherever Node can run it, switched on from inside the process; the plain SIMD one where
// relaxed SIMD is off (node --no-experimental-wasm-relaxed-simd) or DSDC_WASM_KERNELS=simd says
// so. Real child processes, since a V8 flag, once set, stays set for the process.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { describe, expect, it, onTestFinished } from 'vitest';
import { NO_RELAXED_SIMD_V8_FLAG, enableRelaxedSimd, relaxedSimdSupported } from '../../src/ops/wasm/relaxedSimd.js';
import { REPO_ROOT, SMALL_RUN, runCli, tempDir } from '../helpers/cli.js';

/** Initialises the wasm backend in a fresh node and returns what it printed: the kernel set and a product checked against a loop. */
function kernelsInChild(nodeFlags: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const script = `
    const tf = await import('@tensorflow/tfjs');
    const { initBackend } = await import('./src/backend/index.ts');
    const { pointwiseConv } = await import('./src/ops/pointwise.ts');
    const info = await initBackend('wasm');
    const [b, h, w, cin, cout] = [2, 5, 7, 24, 32];
    const x = Float32Array.from({ length: b * h * w * cin }, (_, i) => Math.sin(i));
    const k = Float32Array.from({ length: cin * cout }, (_, i) => Math.cos(i));
    const got = pointwiseConv(tf.tensor4d(x, [b, h, w, cin]), tf.tensor4d(k, [1, 1, cin, cout])).dataSync();
    let worst = 0;
    for (let r = 0; r < b * h * w; r++) for (let o = 0; o < cout; o++) {
      let sum = 0;
      for (let i = 0; i < cin; i++) sum += x[r * cin + i] * k[i * cout + o];
      worst = Math.max(worst, Math.abs(got[r * cout + o] - sum));
    }
    console.log(JSON.stringify({ device: info.device, worst }));
  `;
  const result = spawnSync(process.execPath, [...nodeFlags, '--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const parsed = (stdout: string) => JSON.parse(stdout.trim().split('\n').pop()!) as { device: string; worst: number };

describe('relaxed SIMD and the choice of kernel build', () => {
  it('enableRelaxedSimd makes relaxed SIMD validate in this process', () => {
    expect(enableRelaxedSimd()).toBe(true);
    expect(relaxedSimdSupported()).toBe(true);
  });

  it('a plain node process runs the fused multiply-add build, and its products are right', () => {
    const child = kernelsInChild([]);
    expect(child.status, child.stderr).toBe(0);
    const { device, worst } = parsed(child.stdout);
    expect(device).toContain('dsdc kernels: fma');
    expect(worst).toBeLessThan(1e-4);
  });

  it(`with ${NO_RELAXED_SIMD_V8_FLAG} it falls back to the plain SIMD build, with the same products`, () => {
    const child = kernelsInChild([NO_RELAXED_SIMD_V8_FLAG]);
    expect(child.status, child.stderr).toBe(0);
    const { device, worst } = parsed(child.stdout);
    expect(device).toContain('dsdc kernels: simd)');
    expect(worst).toBeLessThan(1e-4);
  });

  it('DSDC_WASM_KERNELS=simd forces the plain build; a value outside the choices is an error naming it', () => {
    const plain = kernelsInChild([], { DSDC_WASM_KERNELS: 'simd' });
    expect(plain.status, plain.stderr).toBe(0);
    expect(parsed(plain.stdout).device).toContain('dsdc kernels: simd)');
    const bad = kernelsInChild([], { DSDC_WASM_KERNELS: 'avx' });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/DSDC_WASM_KERNELS="avx" is not a kernel set; use one of auto, fma, simd, js/);
  });

  it('dsdc-dist train: the worker it starts runs the fused multiply-add build', async () => {
    const runDir = tempDir('fma-train');
    onTestFinished(() => rmSync(runDir, { recursive: true, force: true }));
    const result = await runCli(['train', '--workers', '1', ...SMALL_RUN.filter((f) => f !== '--log-level' && f !== 'warn'), '--log-level', 'debug', '--batch-size', '32', '--max-steps', '2', '--no-eval', '--run-dir', runDir, '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/worker local-0 joined .*dsdc kernels: fma/);
    expect(result.json!.device).toContain('dsdc kernels: fma');
  });
});

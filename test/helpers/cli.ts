// Runs the real CLI as a child process (node bin/dsdc-dist.js …) and collects what it prints.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = join(REPO_ROOT, 'bin', 'dsdc-dist.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The last stdout line parsed as JSON, when it is JSON. */
  json?: Record<string, unknown>;
}

/**
 * The token the test suite's coordinators and workers share through $DSDC_TOKEN, so that a
 * test starting both need not pass it; a test of the token handling sets DSDC_TOKEN itself
 * (to '' for none).
 */
export const TEST_TOKEN = 'test-suite-token-0123456789abcdef';

export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, env: { DSDC_TOKEN: TEST_TOKEN, ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

export function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = startCli(args, options.env);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`dsdc-dist ${args.join(' ')} did not finish in ${options.timeoutMs} ms\n${stderr.slice(-3000)}`));
    }, options.timeoutMs ?? 120_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const last = stdout.trim().split('\n').pop() ?? '';
      let json: Record<string, unknown> | undefined;
      try {
        json = JSON.parse(last);
      } catch {
        json = undefined;
      }
      resolve({ code, stdout, stderr, json });
    });
  });
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `dsdc-${prefix}-`));
}

/** Flags for a small, fast run on real MNIST. */
export const SMALL_RUN = ['--backend', 'wasm', '--train-limit', '2048', '--test-limit', '300', '--log-level', 'warn'];

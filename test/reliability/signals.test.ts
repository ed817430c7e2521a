// Ctrl-C and SIGTERM with real processes and real signals. A standalone run (worker, finetune)
// stops at the next step boundary: checkpoint, summary with interrupted: true, exit 128 + the
// signal's number. Ctrl-C on `train` (SIGINT to its whole process group, as a terminal sends it)
// stops the run the same way, and its launcher says the workers stopped with it, without the
// restart warnings of a crash.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLI, REPO_ROOT, runCli, tempDir } from '../helpers/cli.js';
import { waitFor } from '../observability/waitFor.js';
import { CliProcess, expectConsecutive, latestCheckpoint, START_TIMEOUT_MS, stepRecords, TINY_RUN, waitForStep } from './harness.js';

const RUN_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 30_000;
const EXIT_CODE: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

describe('signals', () => {
  const processes: CliProcess[] = [];
  afterEach(() => processes.splice(0).forEach((p) => p.stop()));
  const start = (name: string, args: string[]) => {
    const p = new CliProcess(name, args);
    processes.push(p);
    return p;
  };

  /** The stop is at a step boundary: every step recorded once, the checkpoint is the last one. */
  function expectStoppedCleanly(run: CliProcess, runDir: string): void {
    const summary = run.summary();
    expect(summary.interrupted).toBe(true);
    expect(summary.steps as number).toBeLessThan(1000);
    expect(expectConsecutive(stepRecords(runDir), summary.steps as number)).toBeNull();
    expect(latestCheckpoint(runDir)).toMatch(new RegExp(`step-0*${summary.steps}$`));
  }

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} to worker --standalone takes effect at the next step: checkpoint, interrupted summary, exit ${EXIT_CODE[signal]}`, { timeout: RUN_TIMEOUT_MS }, async () => {
      const runDir = join(tempDir(`standalone-${signal}`), 'run');
      const run = start('worker --standalone', ['worker', '--standalone', ...TINY_RUN, '--max-steps', '1000', '--checkpoint-every', '1000', '--no-eval', '--run-dir', runDir, '--json', '--log-level', 'info']);
      await waitForStep(runDir, 3, RUN_TIMEOUT_MS);
      run.signal(signal);
      expect(await run.exit(STOP_TIMEOUT_MS)).toBe(EXIT_CODE[signal]);
      await run.waitForLine(new RegExp(`${signal}: finishing the current step, writing a checkpoint, then exiting`), 1000);
      expectStoppedCleanly(run, runDir);
    });
  }

  describe('finetune --standalone', () => {
    const root = tempDir('finetune-signal');
    beforeAll(async () => {
      const base = await runCli(['worker', '--standalone', ...TINY_RUN, '--max-steps', '2', '--no-eval', '--run-dir', join(root, 'base'), '--log-level', 'warn'], { timeoutMs: RUN_TIMEOUT_MS });
      expect(base.code, base.stderr).toBe(0);
    }, RUN_TIMEOUT_MS);

    it('SIGTERM takes effect at the next step: checkpoint, interrupted summary, exit 143', { timeout: RUN_TIMEOUT_MS }, async () => {
      const runDir = join(root, 'tuned');
      const run = start('finetune --standalone', ['finetune', '--standalone', '--from', join(root, 'base'), ...TINY_RUN, '--max-steps', '1000', '--checkpoint-every', '1000', '--no-eval', '--run-dir', runDir, '--json', '--log-level', 'info']);
      await waitForStep(runDir, 3, RUN_TIMEOUT_MS);
      run.signal('SIGTERM');
      expect(await run.exit(STOP_TIMEOUT_MS)).toBe(143);
      expectStoppedCleanly(run, runDir);
    });
  });

  it('Ctrl-C on train: the run stops with a checkpoint, the launcher says the workers stopped with it, and nothing alarming is logged', { timeout: RUN_TIMEOUT_MS }, async () => {
    const runDir = join(tempDir('train-ctrl-c'), 'run');
    // A process group of its own, so that the test can signal the group as a terminal does.
    const train = spawn(process.execPath, [CLI, 'train', '--workers', '2', ...TINY_RUN, '--max-steps', '1000', '--checkpoint-every', '1000', '--no-eval', '--run-dir', runDir, '--json', '--log-level', 'debug'], {
      cwd: REPO_ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    train.stdout!.on('data', (d) => (stdout += d));
    train.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => train.on('exit', (code) => resolve(code)));
    try {
      await waitForStep(runDir, 3, START_TIMEOUT_MS + RUN_TIMEOUT_MS / 2);
      process.kill(-train.pid!, 'SIGINT');
      const code = await Promise.race([exited, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`train did not exit:\n${stderr.slice(-3000)}`)), STOP_TIMEOUT_MS))]);
      expect(code, stderr.slice(-3000)).toBe(130);
      await waitFor(() => /stopped with the run/.test(stderr), 1000, 'the launcher line');
      const summary = JSON.parse(stdout.trim().split('\n').pop()!);
      expect(summary.interrupted).toBe(true);
      expect(latestCheckpoint(runDir)).toMatch(new RegExp(`step-0*${summary.steps}$`));
      const lines = stderr.split('\n');
      expect(lines.filter((l) => /\[launcher\]/.test(l) && /stopped with the run/.test(l))).toEqual([expect.stringContaining('the 2 worker process(es) stopped with the run')]);
      expect(lines.filter((l) => /^\S+ (WARN|ERROR) /.test(l))).toEqual([expect.stringContaining('SIGINT: finishing the current step, writing a checkpoint, then exiting')]);
      expect(stderr).not.toMatch(/starting it again|exited with SIGINT|disconnected/);
    } finally {
      if (train.exitCode === null) process.kill(-train.pid!, 'SIGKILL');
    }
  });
});

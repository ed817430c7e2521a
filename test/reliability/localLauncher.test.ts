// `train --workers N` looks after its own worker processes: one that dies mid-run is started
// again and rejoins, one that cannot start stops the run with an error that says why, instead
// of the coordinator waiting minutes for a worker that will never come.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalWorkers, MAX_FAILED_STARTS } from '../../src/launcher/localWorkers.js';
import { SINGLE_THREADED_GC_FLAG, workerNodeFlags } from '../../src/launcher/workerNodeFlags.js';
import { createLogger } from '../../src/log/logger.js';
import { tempDir } from '../helpers/cli.js';
import { WORKER_REFUSED_EXIT_CODE } from '../../src/worker/exitCodes.js';
import { KERNEL_MATH_ENV } from '../../src/ops/wasm/kernelMathChoice.js';
import { CliProcess, START_TIMEOUT_MS, TINY_RUN, coordinatorArgs, freePort, latestCheckpoint, stepRecords, waitForStep } from './harness.js';

/** Starts one local worker with these options and resolves with the launcher's give-up reason and its log lines. */
async function untilGivenUp(options: { url: string; token: string; tlsCaFile?: string }): Promise<{ reason: string; lines: string[] }> {
  const lines: string[] = [];
  const reason = await new Promise<string>((resolve) => {
    new LocalWorkers({
      ...options,
      count: 1,
      backend: 'wasm',
      logLevel: 'warn',
      log: createLogger('launcher', 'info', (l) => lines.push(l)),
      restartDelayMs: 50,
      onGiveUp: resolve,
    }).start();
  });
  return { reason, lines };
}

describe('the local launcher of train --workers N', () => {
  const processes: CliProcess[] = [];
  afterEach(() => processes.splice(0).forEach((p) => p.stop()));

  it('starts a worker process that was killed again; it rejoins and the run goes on with both, every step in order', { timeout: 240_000 }, async () => {
    // Open-ended in steps: however fast the machine, the run cannot end before the worker is back.
    const runDir = tempDir('relaunch');
    const train = new CliProcess('train', ['train', '--workers', '2', ...TINY_RUN, '--epochs', '100000', '--checkpoint-every', '100000', '--no-eval', '--heartbeat-timeout', '5', '--run-dir', runDir, '--json', '--log-level', 'debug']);
    processes.push(train);
    const joined = await train.waitForLine(/worker local-1 joined from .* pid (\d+)\)/, START_TIMEOUT_MS);
    // Garbage collection on the main thread only where the processes take every core.
    const nodeArgs = readFileSync(`/proc/${joined[1]}/cmdline`, 'utf8').split('\0');
    expect(nodeArgs.filter((a) => a === SINGLE_THREADED_GC_FLAG)).toEqual(workerNodeFlags(2));
    await waitForStep(runDir, 5, 120_000);
    process.kill(Number(joined[1]), 'SIGKILL');
    await train.waitForLine(/worker process local-1 \(pid \d+\) exited with SIGKILL; starting it again/, 20_000);
    const mark = train.lineCount;
    await train.waitForLine(/worker local-1 joined from/, START_TIMEOUT_MS, mark);
    const rejoinedAt = stepRecords(runDir).length;
    await waitForStep(runDir, rejoinedAt + 5, 60_000);
    expect(stepRecords(runDir).slice(rejoinedAt + 2).some((r) => r.workers === 2)).toBe(true);
    train.signal('SIGTERM');
    expect(await train.exit(60_000), train.stderr.slice(-2000)).toBe(143);
    const steps = train.summary().steps as number;
    expect(stepRecords(runDir).map((r) => r.step)).toEqual(Array.from({ length: steps }, (_, i) => i + 1));
  });

  it('SIGTERM to train: the workers finish the step in flight, the coordinator checkpoints it, says bye, and train exits 143 (stopped, not finished)', { timeout: 240_000 }, async () => {
    const runDir = tempDir('train-term');
    const train = new CliProcess('train', ['train', '--workers', '2', ...TINY_RUN, '--max-steps', '1000', '--checkpoint-every', '1000', '--no-eval', '--run-dir', runDir, '--json']);
    processes.push(train);
    await waitForStep(runDir, 5, 120_000);
    train.signal('SIGTERM');
    expect(await train.exit(60_000), train.stderr.slice(-2000)).toBe(143);
    const summary = train.summary();
    expect(summary.interrupted).toBe(true);
    expect(stepRecords(runDir).map((r) => r.step)).toEqual(Array.from({ length: summary.steps as number }, (_, i) => i + 1));
    expect(train.linesMatching(/given up|worker process local-\d .*exited with|disconnected/)).toEqual([]);
    expect(latestCheckpoint(runDir)).toMatch(new RegExp(`step-0*${summary.steps}$`));
  });

  it(`gives up on a worker that fails to start ${MAX_FAILED_STARTS} times in a row, and says why`, { timeout: 120_000 }, async () => {
    // A real start-up crash (exit 1): the worker's backend refuses a kernel setting the workers
    // inherit from the launcher's environment. Restarting might help with a crash, so it is tried.
    const before = process.env[KERNEL_MATH_ENV];
    process.env[KERNEL_MATH_ENV] = 'no-such-kernels';
    try {
      const { reason, lines } = await untilGivenUp({ url: 'ws://127.0.0.1:9', token: 'unused' });
      expect(reason).toMatch(new RegExp(`worker process local-0 exited with code 1 and is not restarted: it exited ${MAX_FAILED_STARTS} times in a row`));
      expect(lines.filter((l) => /exited with code 1; starting it again/.test(l))).toHaveLength(MAX_FAILED_STARTS - 1);
    } finally {
      if (before === undefined) delete process.env[KERNEL_MATH_ENV];
      else process.env[KERNEL_MATH_ENV] = before;
    }
  });

  it('does not restart a worker whose settings are wrong (a usage error): restarting cannot help', { timeout: 120_000 }, async () => {
    const notPem = join(tempDir('not-pem'), 'ca.pem');
    writeFileSync(notPem, 'this is not a certificate\n');
    const { reason, lines } = await untilGivenUp({ url: 'wss://127.0.0.1:9', token: 'unused', tlsCaFile: notPem });
    expect(reason).toMatch(new RegExp(`worker process local-0 exited with code ${WORKER_REFUSED_EXIT_CODE} and is not restarted: restarting cannot help`));
    expect(lines.filter((l) => /starting it again/.test(l))).toEqual([]);
  });

  it('does not restart a worker that the coordinator refused (wrong token), and says so', { timeout: 120_000 }, async () => {
    const port = await freePort();
    const coordinator = new CliProcess('coordinator', coordinatorArgs(port, tempDir('refused'), 1, ['--max-steps', '1']), { DSDC_TOKEN: 'the-right-one' });
    processes.push(coordinator);
    await coordinator.waitForLine(/listening on ws:/, START_TIMEOUT_MS);
    const { reason, lines } = await untilGivenUp({ url: `ws://127.0.0.1:${port}`, token: 'a-wrong-one' });
    expect(reason).toMatch(new RegExp(`worker process local-0 exited with code ${WORKER_REFUSED_EXIT_CODE} and is not restarted: restarting cannot help \\(the coordinator refused it`));
    expect(lines.filter((l) => /starting it again/.test(l))).toEqual([]);
  });

  it('train refuses an unreadable --tls-ca before starting anything', async () => {
    const train = new CliProcess('train', ['train', '--workers', '2', ...TINY_RUN, '--max-steps', '1', '--tls-ca', '/nonexistent/ca.pem', '--run-dir', tempDir('bad-ca')]);
    processes.push(train);
    expect(await train.exit(60_000)).toBe(2);
    expect(train.stderr).toMatch(/--tls-ca \/nonexistent\/ca\.pem: cannot read it/);
    expect(train.stderr).not.toMatch(/started \d+ worker process/);
  });
});

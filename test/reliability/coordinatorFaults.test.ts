// The coordinator failing under a live run, with real processes on 127.0.0.1: killed with
// SIGKILL and started again with --resume (as pm2 does), stopped with SIGTERM (pm2 stop), and
// resumed past a damaged newest checkpoint.
import { WORKER_RUN_STOPPED_EXIT_CODE } from '../../src/worker/exitCodes.js';
import { readdirSync, truncateSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { maxRelativeDifference, readCheckpointWeights } from '../helpers/checkpointWeights.js';
import { tempDir } from '../helpers/cli.js';
import { CliProcess, START_TIMEOUT_MS, TINY_RUN, coordinatorArgs, freePort, latestCheckpoint, stepRecords, waitForStep, workerArgs } from './harness.js';

const STEPS = 30;
const RUN_TIMEOUT_MS = 120_000;

describe('coordinator faults', () => {
  const processes: CliProcess[] = [];
  const start = (name: string, args: string[]) => {
    const p = new CliProcess(name, args);
    processes.push(p);
    return p;
  };
  afterEach(() => processes.splice(0).forEach((p) => p.stop()));

  /** Two workers and a coordinator; resolves once both have joined. */
  async function startRun(port: number, runDir: string, extra: string[]) {
    const coordinator = start('coordinator', coordinatorArgs(port, runDir, 2, extra));
    await coordinator.waitForLine(/listening on ws:/, START_TIMEOUT_MS);
    const workers = [start('worker a', workerArgs(port, 'a')), start('worker b', workerArgs(port, 'b'))];
    return { coordinator, workers };
  }

  it('coordinator killed with SIGKILL and restarted with --resume: the workers reconnect by themselves and the run ends with the same weights as an undisturbed one', { timeout: 300_000 }, async () => {
    const flags = ['--max-steps', String(STEPS), '--checkpoint-every', '5', '--no-eval'];
    const straightDir = tempDir('straight');
    const straight = await startRun(await freePort(), straightDir, flags);
    expect(await straight.coordinator.exit(RUN_TIMEOUT_MS)).toBe(0);

    const port = await freePort();
    const runDir = tempDir('coordinator-kill');
    const first = await startRun(port, runDir, flags);
    await waitForStep(runDir, 12, RUN_TIMEOUT_MS);
    first.coordinator.signal('SIGKILL');
    await first.coordinator.exited;
    await Promise.all(first.workers.map((w) => w.waitForLine(/connection to .* closed|reconnecting/, 10_000)));

    const second = start('coordinator (restarted)', coordinatorArgs(port, runDir, 2, [...flags, '--resume']));
    const resumed = await second.waitForLine(/resuming from .*step-0*(\d+) at step (\d+)/, START_TIMEOUT_MS);
    expect(Number(resumed[2])).toBeGreaterThanOrEqual(10);
    await second.waitForLine(/worker a joined/, START_TIMEOUT_MS);
    await second.waitForLine(/worker b joined/, START_TIMEOUT_MS);
    expect(await second.exit(RUN_TIMEOUT_MS)).toBe(0);
    expect(second.summary().steps).toBe(STEPS);
    for (const w of first.workers) expect(await w.exit(30_000)).toBe(0);

    // Same data order, same optimizer state: the same weights, bit for bit.
    const expected = readCheckpointWeights(latestCheckpoint(straightDir));
    const got = readCheckpointWeights(latestCheckpoint(runDir));
    for (const [name, values] of expected) expect(maxRelativeDifference(got.get(name)!, values), name).toBe(0);
    // Steps after the checkpoint were done twice (once lost with the coordinator), every one at least once.
    const steps = new Set(stepRecords(runDir).map((r) => r.step));
    expect(steps.size).toBe(STEPS);
  });

  it('SIGTERM (pm2 stop): the coordinator finishes the step, writes a checkpoint, says bye and exits 143, its workers 75 (run stopped); --resume continues from there', { timeout: 300_000 }, async () => {
    const port = await freePort();
    const runDir = tempDir('coordinator-term');
    const flags = ['--max-steps', String(STEPS), '--checkpoint-every', '1000', '--no-eval'];
    const run = await startRun(port, runDir, flags);
    await waitForStep(runDir, 6, RUN_TIMEOUT_MS);
    run.coordinator.signal('SIGTERM');
    expect(await run.coordinator.exit(60_000)).toBe(143);
    await run.coordinator.waitForLine(/SIGTERM: finishing the current step, writing a checkpoint/, 1000);
    const summary = run.coordinator.summary();
    expect(summary.interrupted).toBe(true);
    const stoppedAt = summary.steps as number;
    expect(stoppedAt).toBeGreaterThanOrEqual(6);
    expect(latestCheckpoint(runDir)).toMatch(new RegExp(`step-0*${stoppedAt}$`));
    // Not 0: the run did not finish, and a supervisor keeps them for the coordinator's return.
    for (const w of run.workers) expect(await w.exit(30_000)).toBe(WORKER_RUN_STOPPED_EXIT_CODE);

    const resumed = await startRun(port, runDir, [...flags, '--resume']);
    await resumed.coordinator.waitForLine(new RegExp(`resuming from .* at step ${stoppedAt}\\b`), START_TIMEOUT_MS);
    expect(await resumed.coordinator.exit(RUN_TIMEOUT_MS)).toBe(0);
    expect(resumed.coordinator.summary().steps).toBe(STEPS);
  });

  it('a half-written newest checkpoint is detected by its checksum and the previous one is used, with a warning', { timeout: 300_000 }, async () => {
    const runDir = tempDir('corrupt');
    const trainArgs = ['train', ...TINY_RUN, '--workers', '1', '--run-dir', runDir, '--log-level', 'info', '--json'];
    const flags = ['--checkpoint-every', '4', '--no-eval'];
    const first = start('train', [...trainArgs, ...flags, '--max-steps', '10']);
    expect(await first.exit(RUN_TIMEOUT_MS)).toBe(0);
    const names = readdirSync(join(runDir, 'checkpoints')).filter((n) => n.startsWith('step-')).sort();
    expect(names.map((n) => Number(n.slice(5)))).toEqual([4, 8, 10]);
    // Half of the newest checkpoint's weights, as a crash in the middle of a copy would leave them.
    const weights = join(runDir, 'checkpoints', names[2], 'weights.bin');
    truncateSync(weights, Math.floor(statSync(weights).size / 2));

    const resumed = start('train --resume', [...trainArgs, ...flags, '--max-steps', '14', '--resume']);
    await resumed.waitForLine(/skipping damaged checkpoint step-0*10: .*weights\.bin/, START_TIMEOUT_MS);
    await resumed.waitForLine(/resuming from .*step-0*8 at step 8\b/, START_TIMEOUT_MS);
    expect(await resumed.exit(RUN_TIMEOUT_MS)).toBe(0);
    expect(resumed.summary().steps).toBe(14);
  });
});

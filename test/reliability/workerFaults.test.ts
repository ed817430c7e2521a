// Workers failing under a live two-worker run, with real processes on 127.0.0.1: one killed
// (SIGKILL) and started again, one stopped (SIGSTOP) and woken (SIGCONT). The run must finish
// every step exactly once, from the survivor while the other is away, and take the other back.
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import { CliProcess, START_TIMEOUT_MS, coordinatorArgs, expectConsecutive, freePort, stepRecords, waitForStep, workerArgs } from './harness.js';

const STEPS = 60;
const RUN_TIMEOUT_MS = 120_000;

describe('worker faults in a live run', () => {
  const processes: CliProcess[] = [];
  const start = (name: string, args: string[]) => {
    const p = new CliProcess(name, args);
    processes.push(p);
    return p;
  };
  afterEach(() => {
    for (const p of processes.splice(0)) {
      p.signal('SIGCONT');
      p.stop();
    }
  });

  it('a worker killed with SIGKILL: the survivor finishes the steps alone, the restarted worker rejoins with the current weights', { timeout: 240_000 }, async () => {
    const port = await freePort();
    const runDir = tempDir('sigkill');
    const coordinator = start('coordinator', coordinatorArgs(port, runDir, 2, ['--max-steps', String(STEPS), '--heartbeat-timeout', '5', '--step-timeout', '60']));
    await coordinator.waitForLine(/listening on ws:/, START_TIMEOUT_MS);
    start('worker a', workerArgs(port, 'a'));
    let b = start('worker b', workerArgs(port, 'b'));
    await waitForStep(runDir, 10, RUN_TIMEOUT_MS);

    b.signal('SIGKILL');
    await coordinator.waitForLine(/worker b disconnected/, 10_000);
    const killedAt = stepRecords(runDir).length;
    await waitForStep(runDir, killedAt + 5, RUN_TIMEOUT_MS);

    const mark = coordinator.lineCount;
    b = start('worker b (again)', workerArgs(port, 'b'));
    await coordinator.waitForLine(/worker b joined .* again/, START_TIMEOUT_MS, mark);
    await b.waitForLine(/joined run .* at weights version (\d+)/, START_TIMEOUT_MS);

    expect(await coordinator.exit(RUN_TIMEOUT_MS)).toBe(0);
    expect(coordinator.summary().steps).toBe(STEPS);
    const records = stepRecords(runDir);
    expect(expectConsecutive(records, STEPS)).toBeNull();
    // Two workers, then one alone after the kill, then two again after the rejoin.
    const workers = records.map((r) => r.workers);
    expect(workers.slice(0, 9).every((w) => w === 2)).toBe(true);
    expect(workers.slice(killedAt + 1, killedAt + 5).every((w) => w === 1)).toBe(true);
    expect(workers[workers.length - 1]).toBe(2);
    // The rejoined worker was welcomed with the weights of a step after the kill.
    const version = Number((await b.waitForLine(/at weights version (\d+)/, 1000))[1]);
    expect(version).toBeGreaterThanOrEqual(killedAt);
    expect(await b.exit(30_000)).toBe(0);
    const losses = records.map((r) => r.loss);
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean(losses.slice(-10))).toBeLessThan(mean(losses.slice(0, 5)));
  });

  it('a worker stopped with SIGSTOP: stalled after the heartbeat timeout, the run goes on, and when woken its late gradients are refused and it rejoins', { timeout: 240_000 }, async () => {
    const port = await freePort();
    const runDir = tempDir('sigstop');
    const coordinator = start('coordinator', coordinatorArgs(port, runDir, 2, ['--max-steps', String(STEPS), '--heartbeat-timeout', '3', '--step-timeout', '60']));
    await coordinator.waitForLine(/listening on ws:/, START_TIMEOUT_MS);
    start('worker a', workerArgs(port, 'a'));
    const b = start('worker b', workerArgs(port, 'b'));
    await waitForStep(runDir, 8, RUN_TIMEOUT_MS);

    b.signal('SIGSTOP');
    const stalled = await coordinator.waitForLine(/worker b .* missed its heartbeats for ([\d.]+) s: stalled/, 20_000);
    expect(Number(stalled[1])).toBeLessThan(10);
    const stoppedAt = stepRecords(runDir).length;
    await waitForStep(runDir, stoppedAt + 5, RUN_TIMEOUT_MS);

    const mark = coordinator.lineCount;
    b.signal('SIGCONT');
    await coordinator.waitForLine(/worker b answers again after/, 20_000, mark);
    await coordinator.waitForLine(/refused gradients from worker b for step \d+: late: step \d+ was finished without this worker/, 20_000, mark);
    await coordinator.waitForLine(/sent worker b the full weights/, 20_000, mark);

    expect(await coordinator.exit(RUN_TIMEOUT_MS)).toBe(0);
    expect(coordinator.summary().steps).toBe(STEPS);
    const records = stepRecords(runDir);
    expect(expectConsecutive(records, STEPS)).toBeNull();
    const workers = records.map((r) => r.workers);
    expect(workers.slice(stoppedAt + 1, stoppedAt + 5).every((w) => w === 1)).toBe(true);
    expect(workers[workers.length - 1]).toBe(2);
    // After the resync, worker b's gradients were accepted again: no refusals after the first late one.
    expect(coordinator.linesMatching(/refused gradients from worker b/).length).toBe(1);
    expect(await b.exit(30_000)).toBe(0);
  });
});

// A relay between the coordinator and its workers keeps the run's failure behaviour: the
// coordinator's verdict on the run (here RUN_STOPPED, 4010) reaches the workers behind the relay
// as if they were direct, so their supervisor restarts them; and a local worker that dies
// mid-run costs at most the relay's part of that step (reported as failed, dropped by the
// coordinator as it drops a direct worker's), never a step lost or applied twice.
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { SMALL_RUN, tempDir } from '../helpers/cli.js';
import { startRelayRun } from '../helpers/relays.js';
import { stepRecords } from '../reliability/harness.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** Resolves once the run has recorded `count` steps (the coordinator appends one line per step). */
function stepsRecorded(runDir: string, count: number, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const check = () => {
      if (stepRecords(runDir).length >= count) return resolve();
      if (Date.now() > deadline) return reject(new Error(`fewer than ${count} steps in ${runDir} after ${timeoutMs} ms`));
      setTimeout(check, 100);
    };
    check();
  });
}

describe('a relay passes the run\'s failures through', () => {
  it('a coordinator stopped by SIGTERM: the relay and the workers behind it hear RUN_STOPPED and exit 75', async () => {
    const runDir = tempDir('relay-stop');
    dirs.push(runDir);
    // At debug the relay's workers say what they heard (a launcher's workers report warnings only).
    const run = await startRelayRun(1, 2, [...SMALL_RUN, '--batch-size', '32', '--no-eval', '--max-steps', '500', '--run-dir', runDir], ['--log-level', 'debug']);
    await stepsRecorded(runDir, 2);
    run.coordinatorProcess.kill('SIGTERM');
    const [coordinator, relay] = await Promise.all([run.coordinator, run.relays[0]]);
    expect(coordinator.code, coordinator.stderr.slice(-2000)).toBe(143);
    expect(relay.code, relay.stderr.slice(-3000)).toBe(75);
    for (const id of ['local-0', 'local-1']) {
      expect(relay.stderr, id).toMatch(new RegExp(`\\[worker ${id}\\] coordinator stopped the run before its end \\(run stopped: .*exiting with code 75`));
    }
  }, 300_000);

  it('a local worker killed mid-run: every step is done once, and the relay\'s restarted worker rejoins', async () => {
    const runDir = tempDir('relay-kill');
    dirs.push(runDir);
    const steps = 80;
    const run = await startRelayRun(1, 2, [...SMALL_RUN, '--batch-size', '32', '--no-eval', '--max-steps', String(steps), '--run-dir', runDir]);
    const joined = await run.relayLog(0, /worker local-1 joined from .*pid (\d+)\)/);
    await stepsRecorded(runDir, 3);
    process.kill(Number(joined[1]), 'SIGKILL');
    const [coordinator, relay] = await Promise.all([run.coordinator, run.relays[0]]);
    expect(coordinator.code, coordinator.stderr.slice(-2000)).toBe(0);
    expect(relay.code, relay.stderr.slice(-3000)).toBe(0);
    expect(relay.stderr).toMatch(/worker process local-1 \(pid \d+\) exited with SIGKILL; starting it again/);
    expect(relay.stderr).toMatch(/worker local-1 joined from .* again/);
    const records = stepRecords(runDir);
    expect(records.map((r) => r.step)).toEqual(Array.from({ length: steps }, (_, i) => i + 1));
  }, 300_000);
});

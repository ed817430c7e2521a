// Training runs across network namespaces (tools/netlab), with the real CLI: a coordinator and
// two workers, each in its own namespace, the workers connecting to ws://coordinator:7070 by
// name. Every scenario checks that all steps were done, none lost and none applied twice, and
// compares the final weights with an undisturbed run of the same flags: bit for bit where the
// arithmetic is the same (shaped links, a restarted coordinator), within float rounding where
// a worker's part went to the other worker.
import { rmSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NetLab, netlabImpairment, type LinkShape } from '../../tools/netlab/index.js';
import { maxRelativeDifference, readCheckpointWeights } from '../helpers/checkpointWeights.js';
import { tempDir } from '../helpers/cli.js';
import { netlabSkipReason } from '../helpers/netlab.js';
import { waitFor } from '../observability/waitFor.js';
import { WORKER_RUN_STOPPED_EXIT_CODE } from '../../src/worker/exitCodes.js';
import { type CliProcess, latestCheckpoint, START_TIMEOUT_MS, stepRecords, waitForStep } from '../reliability/harness.js';
import { accountFor, COORDINATOR_HOST, labCoordinatorArgs, labWorkerArgs, scenarioRow, startInHost } from './labRun.js';

const skip = netlabSkipReason();
const WORKERS = ['w-a', 'w-b'];
const STEPS = 24;
const HEARTBEAT_S = 2;
const FLAGS = ['--max-steps', String(STEPS), '--checkpoint-every', '6', '--no-eval', '--heartbeat-timeout', String(HEARTBEAT_S)];
/**
 * More steps (and epochs: a run ends at whichever limit comes first) than a partition scenario gets
 * to: it ends its run with SIGTERM once it has seen what it checks, however fast the machine is.
 */
const OPEN_ENDED_STEPS = 100_000;
const LONG_FLAGS = ['--max-steps', String(OPEN_ENDED_STEPS), '--epochs', String(OPEN_ENDED_STEPS), '--checkpoint-every', '1000', '--no-eval', '--heartbeat-timeout', String(HEARTBEAT_S)];
/** Steps with both workers that must follow a heal before the run is stopped. */
const STEPS_AFTER_HEAL = 5;
const RUN_TIMEOUT_MS = 180_000;
/** A worker's connect attempt lasts at most 10 s, its backoff at most 10 s: both are back well within this. */
const RECONNECT_AFTER_HEAL_MS = 30_000;
const COORDINATOR_PARTITION_MS = 30_000;
const PINGS_SEEN_MS = 3_000;
const rows: string[] = [];

describe.skipIf(skip !== undefined)('training across network namespaces', () => {
  let lab: NetLab;
  let baselineDir: string;
  const runDirs: string[] = [];
  const newRunDir = (name: string) => (runDirs.push(tempDir(name)), runDirs.at(-1)!);
  const processes: CliProcess[] = [];
  const track = (p: CliProcess) => (processes.push(p), p);

  beforeAll(async () => {
    lab = await NetLab.create({ prefix: 'nlrun' });
    await lab.addHost(COORDINATOR_HOST);
    for (const worker of WORKERS) await lab.addHost(worker);
  });
  afterEach(async () => {
    processes.splice(0).forEach((p) => p.stop());
    // A test that failed between kill and restart leaves the coordinator's host to make again.
    if (!lab.isAlive(COORDINATOR_HOST)) await lab.restart(COORDINATOR_HOST);
    await lab.heal(COORDINATOR_HOST);
    for (const name of [COORDINATOR_HOST, ...WORKERS]) {
      await lab.heal(name);
      await lab.shape(name, {});
    }
  });
  afterAll(async () => {
    await lab?.destroy();
    for (const dir of runDirs) rmSync(dir, { recursive: true, force: true });
    console.log(['', `impairment: ${netlabImpairment()}`, '| scenario | steps done | steps lost | ms per step |', '|---|---|---|---|', ...rows].join('\n'));
  });

  /** A coordinator and the workers in their hosts; resolves once the coordinator listens and the workers run. */
  async function startRun(runDir: string, flags: string[]) {
    const coordinator = track(startInHost(lab, COORDINATOR_HOST, 'coordinator', labCoordinatorArgs(runDir, WORKERS.length, flags)));
    await coordinator.waitForLine(/listening on ws:/, START_TIMEOUT_MS);
    const workers = WORKERS.map((id) => track(startInHost(lab, id, `worker ${id}`, labWorkerArgs(id))));
    return { coordinator, workers };
  }

  async function finish(run: { coordinator: CliProcess; workers: CliProcess[] }) {
    expect(await run.coordinator.exit(RUN_TIMEOUT_MS)).toBe(0);
    for (const worker of run.workers) expect(await worker.exit(30_000)).toBe(0);
  }

  /** Waits for STEPS_AFTER_HEAL steps with both workers after `afterStep`, then stops the run (SIGTERM) and returns its steps. */
  async function stopAfterBothWorkersBack(run: { coordinator: CliProcess; workers: CliProcess[] }, dir: string, afterStep: number): Promise<number> {
    await waitFor(() => (stepRecords(dir).filter((r) => r.step > afterStep && r.workers === 2).length >= STEPS_AFTER_HEAL ? true : undefined), RUN_TIMEOUT_MS, `${STEPS_AFTER_HEAL} steps with both workers after step ${afterStep}`);
    run.coordinator.signal('SIGTERM');
    expect(await run.coordinator.exit(60_000)).toBe(143);
    for (const worker of run.workers) expect(await worker.exit(30_000)).toBe(WORKER_RUN_STOPPED_EXIT_CODE);
    return run.coordinator.summary().steps as number;
  }

  function expectAllStepsOnce(runDir: string, planned: number, name: string) {
    const account = accountFor(runDir, planned);
    rows.push(scenarioRow(name, account, planned));
    expect(account.lost).toEqual([]);
    expect(account.repeated).toEqual([]);
    expect(account.done).toBe(planned);
    return account;
  }

  function expectSameWeights(runDir: string, referenceDir: string, tolerance: number) {
    const expected = readCheckpointWeights(latestCheckpoint(referenceDir));
    const got = readCheckpointWeights(latestCheckpoint(runDir));
    expect([...got.keys()]).toEqual([...expected.keys()]);
    for (const [name, values] of expected) expect(maxRelativeDifference(got.get(name)!, values), name).toBeLessThanOrEqual(tolerance);
  }

  it('an undisturbed run across namespaces, workers connecting by host name', { timeout: 300_000 }, async () => {
    baselineDir = newRunDir('netlab-baseline');
    const run = await startRun(baselineDir, FLAGS);
    await run.coordinator.waitForLine(/worker w-a joined/, START_TIMEOUT_MS);
    await finish(run);
    expectAllStepsOnce(baselineDir, STEPS, 'undisturbed');
  });

  const shapes: [string, LinkShape][] = [
    ['20 ms RTT', { delayMs: 10 }],
    ['100 Mbit/s', { rateMbit: 100 }],
    ['1% packet loss', { lossPercent: 1 }],
  ];
  for (const [name, shape] of shapes) {
    it(`${name} on the coordinator's link: every step once, the same weights bit for bit`, { timeout: 300_000 }, async () => {
      await lab.shape(COORDINATOR_HOST, shape);
      const dir = newRunDir('netlab-shaped');
      await finish(await startRun(dir, FLAGS));
      expectAllStepsOnce(dir, STEPS, `${name} (coordinator link)`);
      expectSameWeights(dir, baselineDir, 0);
    });
  }

  it("the coordinator's namespace killed and made again, the coordinator restarted with --resume: same weights bit for bit", { timeout: 300_000 }, async () => {
    const dir = newRunDir('netlab-kill');
    const first = await startRun(dir, FLAGS);
    await waitForStep(dir, 8, RUN_TIMEOUT_MS);
    await lab.kill(COORDINATOR_HOST);
    await first.coordinator.exited;
    await Promise.all(first.workers.map((w) => w.waitForLine(/connection to .* closed|reconnecting|cannot reach|nothing from the coordinator/, 60_000)));
    await lab.restart(COORDINATOR_HOST);
    const second = track(startInHost(lab, COORDINATOR_HOST, 'coordinator (restarted)', labCoordinatorArgs(dir, WORKERS.length, [...FLAGS, '--resume'])));
    const resumed = await second.waitForLine(/resuming from .*step-0*(\d+) at step (\d+)/, START_TIMEOUT_MS);
    const resumedAt = Number(resumed[2]);
    expect(resumedAt).toBeGreaterThanOrEqual(6);
    await finish({ coordinator: second, workers: first.workers });
    const account = accountFor(dir, STEPS);
    rows.push(scenarioRow('coordinator namespace killed, --resume', account, STEPS));
    expect(account.lost).toEqual([]);
    expect(account.done).toBe(STEPS);
    // Steps between the checkpoint and the kill were recorded twice; the weights show they were applied once.
    for (const step of account.repeated) expect(step).toBeGreaterThan(resumedAt);
    expectSameWeights(dir, baselineDir, 0);
  });

  it('one worker partitioned for longer than the heartbeat timeout: the run goes on without it, it rejoins with the current weights', { timeout: 300_000 }, async () => {
    const dir = newRunDir('netlab-worker-partition');
    const run = await startRun(dir, LONG_FLAGS);
    await waitForStep(dir, 5, RUN_TIMEOUT_MS);
    await lab.partition('w-b');
    await run.coordinator.waitForLine(/worker w-b .*missed its heartbeats .*stalled/, 30_000);
    const without = (await waitForStep(dir, stepRecords(dir).length + 3, RUN_TIMEOUT_MS)).at(-1)!;
    expect(without.workers).toBe(1);
    await lab.heal('w-b');
    await run.coordinator.waitForLine(/worker w-b answers again .*rejoins/, 60_000);
    await run.coordinator.waitForLine(/sent worker w-b the full weights/, 60_000);
    const steps = await stopAfterBothWorkersBack(run, dir, without.step);
    expectAllStepsOnce(dir, steps, `worker partitioned > ${HEARTBEAT_S} s heartbeat timeout`);
    // Back with the current weights: it computes its part of the steps after the heal again. (The final
    // weights differ from an undisturbed run's by design: the step it stalled in went on with half the
    // batch, and batch norm's statistics are taken over each worker's part.)
    const records = stepRecords(dir);
    expect(records.at(-1)!.workers).toBe(2);
    expect(records.filter((r) => r.workers === 1).length).toBeGreaterThanOrEqual(3);
  });

  it('the coordinator partitioned from every worker for 30 s: the workers reconnect with backoff and the run continues', { timeout: 300_000 }, async () => {
    const dir = newRunDir('netlab-coordinator-partition');
    const run = await startRun(dir, LONG_FLAGS);
    await waitForStep(dir, 5, RUN_TIMEOUT_MS);
    // Not a synchronisation: the workers learn the coordinator's ping rate (every 0.67 s) from its pings.
    await new Promise((resolve) => setTimeout(resolve, PINGS_SEEN_MS));
    await lab.partition(COORDINATOR_HOST);
    const stuckAt = stepRecords(dir).length;
    await new Promise((resolve) => setTimeout(resolve, COORDINATOR_PARTITION_MS));
    expect(stepRecords(dir).length).toBeLessThanOrEqual(stuckAt + 1);
    // The workers noticed the silence within seconds (the coordinator's pings stopped) and retried.
    for (const worker of run.workers) await worker.waitForLine(/nothing from the coordinator for \d+ s; dropping the connection/, 1000);
    const seenBefore = run.coordinator.lineCount;
    await lab.heal(COORDINATOR_HOST);
    const healed = Date.now();
    await Promise.all(WORKERS.map((id) => run.coordinator.waitForLine(new RegExp(`worker ${id} joined .* again`), RECONNECT_AFTER_HEAL_MS, seenBefore)));
    const backAfterMs = Date.now() - healed;
    const steps = await stopAfterBothWorkersBack(run, dir, stuckAt + 1);
    expectAllStepsOnce(dir, steps, `coordinator partitioned from all workers, 30 s (back ${(backAfterMs / 1000).toFixed(1)} s after the heal)`);
  });
});

describe.skipIf(skip === undefined)('training across network namespaces (unavailable here)', () => {
  it.skip(skip ?? '', () => {});
});

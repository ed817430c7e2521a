// A training run in a lab: the real CLI's coordinator and workers, each in its lab host, the
// workers reaching the coordinator by its host name; and what a run directory says about the
// run afterwards (steps done, repeated, lost; time per step).
import type { NetLab } from '../../tools/netlab/index.js';
import { CLI, REPO_ROOT, TEST_TOKEN } from '../helpers/cli.js';
import { CliProcess, stepRecords } from '../reliability/harness.js';

/** A small model on a little MNIST: the network, not the arithmetic, is what these runs are about. */
export const LAB_RUN = [
  '--backend', 'wasm', '--train-limit', '256', '--test-limit', '100', '--batch-size', '16', '--bn-momentum', '0.9',
  '--widths', '8,16', '--dilations', '1,2', '--pool-after', '1', '--stem-filters', '8',
];

export const COORDINATOR_PORT = 7070;
export const COORDINATOR_HOST = 'coordinator';

/** Starts `dsdc-dist ARGS` inside lab host `hostName`. */
export function startInHost(lab: NetLab, hostName: string, label: string, args: string[]): CliProcess {
  const host = lab.host(hostName);
  return new CliProcess(label, args, {}, (cliArgs) => host.spawn(process.execPath, [CLI, ...cliArgs], { cwd: REPO_ROOT, env: { DSDC_TOKEN: TEST_TOKEN } }));
}

export function labCoordinatorArgs(runDir: string, workers: number, extra: string[]): string[] {
  return [
    'coordinator', ...LAB_RUN, '--workers', String(workers), '--host', '0.0.0.0', '--port', String(COORDINATOR_PORT),
    '--allowed-host', COORDINATOR_HOST, '--run-dir', runDir, '--log-level', 'info', '--json', ...extra,
  ];
}

export function labWorkerArgs(id: string): string[] {
  return ['worker', '--coordinator', `ws://${COORDINATOR_HOST}:${COORDINATOR_PORT}`, '--worker-id', id, '--backend', 'wasm', '--log-level', 'info'];
}

export interface RunAccount {
  /** Distinct steps recorded. */
  done: number;
  /** Steps of 1..planned that no record has. */
  lost: number[];
  /** Steps recorded more than once (a step redone after a coordinator restart counts here). */
  repeated: number[];
  meanStepMs: number;
}

export function accountFor(runDir: string, planned: number): RunAccount {
  const records = stepRecords(runDir) as (ReturnType<typeof stepRecords>[number] & { timings?: { totalMs?: number } })[];
  const seen = new Map<number, number>();
  for (const record of records) seen.set(record.step, (seen.get(record.step) ?? 0) + 1);
  const lost: number[] = [];
  for (let step = 1; step <= planned; step++) if (!seen.has(step)) lost.push(step);
  const times = records.map((r) => r.timings?.totalMs ?? 0);
  return {
    done: seen.size,
    lost,
    repeated: [...seen].filter(([, count]) => count > 1).map(([step]) => step),
    meanStepMs: times.reduce((a, b) => a + b, 0) / Math.max(1, times.length),
  };
}

/** One row of the scenario table, printed so that a run of the tests shows it. */
export function scenarioRow(name: string, account: RunAccount, planned: number): string {
  return `| ${name} | ${account.done}/${planned} | ${account.lost.length} | ${account.meanStepMs.toFixed(0)} |`;
}

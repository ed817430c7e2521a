// A training run in a lab, for the bench and the netlab command: the real CLI's coordinator in
// one host, listening on all its addresses, and one worker per worker host, connecting to the
// coordinator by its host name. Resolves when every process has ended.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { NetLab } from './netLab.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = fileURLToPath(new URL('../../bin/dsdc-dist.js', import.meta.url));

export interface LabTrainingOptions {
  coordinatorHost: string;
  workerHosts: string[];
  port: number;
  /** Flags for the coordinator besides --workers, --host, --port and --allowed-host (training flags, --run-dir, …). */
  coordinatorFlags: string[];
  /** Flags for each worker besides --coordinator and --worker-id (e.g. --backend). */
  workerFlags: string[];
  /** The shared secret (DSDC_TOKEN); at least 128 bits, for the coordinator listens off loopback. */
  token: string;
  /** Every line a process prints (stdout and stderr), with the host it runs in. */
  onLine?: (host: string, line: string) => void;
}

export interface LabTrainingResult {
  coordinatorCode: number | null;
  workerCodes: (number | null)[];
  /** The coordinator's stdout (its --json summary is the last line). */
  coordinatorStdout: string;
}

function startIn(lab: NetLab, hostName: string, args: string[], o: LabTrainingOptions): { exited: Promise<number | null>; stdout: () => string } {
  const child = lab.host(hostName).spawn(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, env: { DSDC_TOKEN: o.token } });
  let stdout = '';
  for (const [stream, keep] of [[child.stdout!, true], [child.stderr!, false]] as const) {
    let partial = '';
    stream.on('data', (chunk: Buffer) => {
      if (keep) stdout += chunk;
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) o.onLine?.(hostName, line);
    });
  }
  return { exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))), stdout: () => stdout };
}

export async function runTrainingInLab(lab: NetLab, o: LabTrainingOptions): Promise<LabTrainingResult> {
  const coordinator = startIn(
    lab,
    o.coordinatorHost,
    ['coordinator', '--workers', String(o.workerHosts.length), '--host', '0.0.0.0', '--port', String(o.port), '--allowed-host', o.coordinatorHost, ...o.coordinatorFlags],
    o,
  );
  // Workers started at once retry with backoff until the coordinator listens.
  const workers = o.workerHosts.map((host) => startIn(lab, host, ['worker', '--coordinator', `ws://${o.coordinatorHost}:${o.port}`, '--worker-id', host, ...o.workerFlags], o));
  const coordinatorCode = await coordinator.exited;
  const workerCodes = await Promise.all(workers.map((w) => w.exited));
  return { coordinatorCode, workerCodes, coordinatorStdout: coordinator.stdout() };
}

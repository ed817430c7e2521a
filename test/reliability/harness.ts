// Real processes for the fault tests: a coordinator and workers started through the CLI on
// 127.0.0.1, with their log lines collected so that a test can wait for an event ("worker b
// stalled") instead of sleeping, and the run's metrics.jsonl read back afterwards.
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCli } from '../helpers/cli.js';
import { waitFor } from '../observability/waitFor.js';

/** A tiny run on real MNIST: each step takes a fraction of a second on one core. */
export const TINY_RUN = ['--backend', 'wasm', '--train-limit', '512', '--test-limit', '200', '--batch-size', '32', '--bn-momentum', '0.9'];
/** Startup of a process (tsx, tfjs, wasm, the MNIST cache) on a slow, busy machine. */
export const START_TIMEOUT_MS = 60_000;
export { freePort } from '../helpers/net.js';

interface LineWaiter {
  pattern: RegExp;
  resolve: (match: RegExpMatchArray) => void;
}

/** One CLI process with its output kept, line by line. */
export class CliProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  stdout = '';
  stderr = '';
  private readonly lines: string[] = [];
  private readonly waiters: LineWaiter[] = [];

  constructor(
    readonly name: string,
    args: string[],
    env: NodeJS.ProcessEnv = {},
    /** How the process is started (e.g. inside a network namespace); the local CLI by default. */
    start: (args: string[], env: NodeJS.ProcessEnv) => ChildProcess = startCli,
  ) {
    this.child = start(args, env);
    this.child.stdout!.on('data', (d) => (this.stdout += d));
    let partial = '';
    this.child.stderr!.on('data', (d: Buffer) => {
      this.stderr += d;
      const text = partial + d.toString();
      const parts = text.split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) this.addLine(line);
    });
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve(signal ? null : code)));
  }

  /** Resolves with the first line (already printed or still to come) that matches. */
  waitForLine(pattern: RegExp, timeoutMs: number, from = 0): Promise<RegExpMatchArray> {
    for (const line of this.lines.slice(from)) {
      const match = line.match(pattern);
      if (match) return Promise.resolve(match);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`${this.name}: no line matching ${pattern} within ${timeoutMs} ms; last lines:\n${this.lines.slice(-25).join('\n')}`));
      }, timeoutMs);
      const waiter: LineWaiter = {
        pattern,
        resolve: (match) => {
          clearTimeout(timer);
          resolve(match);
        },
      };
      this.waiters.push(waiter);
    });
  }

  get lineCount(): number {
    return this.lines.length;
  }

  linesMatching(pattern: RegExp): string[] {
    return this.lines.filter((l) => pattern.test(l));
  }

  /** Exit code, or null after a signal; fails the test if the process does not end in time. */
  async exit(timeoutMs: number): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${this.name} did not exit within ${timeoutMs} ms; last lines:\n${this.lines.slice(-25).join('\n')}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The JSON summary a `--json` run prints as its last stdout line. */
  summary(): Record<string, unknown> {
    return JSON.parse(this.stdout.trim().split('\n').pop() ?? '');
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Ends the process if it still runs (for afterEach). */
  stop(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  private addLine(line: string): void {
    this.lines.push(line);
    for (const waiter of [...this.waiters]) {
      const match = line.match(waiter.pattern);
      if (match) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(match);
      }
    }
  }
}

export interface StepLine {
  step: number;
  loss: number;
  workers: number;
  accuracy: number;
}

/** The step records of a run directory's metrics.jsonl, in the order written. */
export function stepRecords(runDir: string): StepLine[] {
  const file = join(runDir, 'metrics.jsonl');
  if (!existsSync(file)) return [];
  const lines = readFileSync(file, 'utf8').split('\n');
  // The last piece has no newline yet: a record being written as we read, not a whole one.
  lines.pop();
  return lines
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l))
    .filter((r) => r.type === 'step');
}

/** Waits until the run in `runDir` has recorded at least `step` steps. */
export function waitForStep(runDir: string, step: number, timeoutMs: number): Promise<StepLine[]> {
  return waitFor(
    () => {
      const records = stepRecords(runDir);
      return records.length > 0 && records[records.length - 1].step >= step ? records : undefined;
    },
    timeoutMs,
    `step ${step} in ${runDir}/metrics.jsonl`,
  );
}

/** The checkpoint folder that the run's LATEST file names. */
export function latestCheckpoint(runDir: string): string {
  return join(runDir, 'checkpoints', readFileSync(join(runDir, 'checkpoints', 'LATEST'), 'utf8').trim());
}

export function coordinatorArgs(port: number, runDir: string, workers: number, extra: string[] = []): string[] {
  return ['coordinator', ...TINY_RUN, '--workers', String(workers), '--port', String(port), '--run-dir', runDir, '--log-level', 'info', '--json', ...extra];
}

export function workerArgs(port: number, id: string, extra: string[] = []): string[] {
  return ['worker', '--coordinator', `ws://127.0.0.1:${port}`, '--worker-id', id, '--backend', 'wasm', '--log-level', 'info', ...extra];
}

/** Every step from 1 to `last` recorded exactly once per attempt, in order, with a finite loss. */
export function expectConsecutive(records: StepLine[], last: number): string | null {
  for (let i = 0; i < records.length; i++) {
    if (!Number.isFinite(records[i].loss)) return `step ${records[i].step} has loss ${records[i].loss}`;
    if (records[i].step !== i + 1) return `record ${i} is step ${records[i].step}, expected ${i + 1}`;
  }
  return records.length === last ? null : `${records.length} steps recorded, expected ${last}`;
}

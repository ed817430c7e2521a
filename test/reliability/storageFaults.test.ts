// Storage faults, made for real: a checkpoints/ directory that refuses writes (immutable as root,
// read-only otherwise) and a run directory on a small tmpfs filled up. A checkpoint that cannot
// be written is retried while the run holds its state; it stops with exit code 74 and an error
// naming the path, the errno code and the last good checkpoint only when no retry works, and a
// failed append to metrics.jsonl is a warning whose records are written once the disk recovers.
import { existsSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CHECKPOINT_FAILURE_EXIT_CODE } from '../../src/checkpoint/retryingSave.js';
import { tempDir } from '../helpers/cli.js';
import { makeUnwritable, rootOnly, smallTmpfs } from '../helpers/faults.js';
import { CliProcess, expectConsecutive, latestCheckpoint, START_TIMEOUT_MS, stepRecords, TINY_RUN } from './harness.js';

const RUN_TIMEOUT_MS = 120_000;
/** Under the test's own timeout, so that a missing line fails with the process's last lines. */
const LINE_TIMEOUT_MS = 60_000;
/** A tmpfs that holds the run's few checkpoints (~0.45 MB each) with room to spare, until filled. */
const TMPFS_BYTES = 4 * 1024 * 1024;
const FULL_DISK_STEPS = 36;

function standalone(runDir: string, extra: string[]): CliProcess {
  return new CliProcess('worker --standalone', ['worker', '--standalone', ...TINY_RUN, '--no-eval', '--run-dir', runDir, '--log-level', 'info', '--json', ...extra]);
}

describe('storage faults', () => {
  const cleanups: (() => void)[] = [];
  const processes: CliProcess[] = [];
  afterEach(() => {
    processes.splice(0).forEach((p) => p.stop());
    for (const undo of cleanups.splice(0).reverse()) undo();
  });

  it('a checkpoint directory that refuses writes: retried, then exit 74 naming the path, the cause and the last good checkpoint', { timeout: RUN_TIMEOUT_MS }, async () => {
    const runDir = tempDir('ckpt-unwritable');
    cleanups.push(() => rmSync(runDir, { recursive: true, force: true }));
    const run = standalone(runDir, ['--max-steps', '1000', '--checkpoint-every', '3', '--checkpoint-retry', '3']);
    processes.push(run);
    await run.waitForLine(/training \d+ steps/, START_TIMEOUT_MS);
    const checkpoints = join(runDir, 'checkpoints');
    await waitForFile(join(checkpoints, 'LATEST'));
    cleanups.push(makeUnwritable(checkpoints));
    const good = latestCheckpoint(runDir);

    await run.waitForLine(/cannot write checkpoint .*: E(PERM|ACCES) .*tries again in/, LINE_TIMEOUT_MS);
    expect(await run.exit(RUN_TIMEOUT_MS)).toBe(CHECKPOINT_FAILURE_EXIT_CODE);
    const [error] = run.linesMatching(/ERROR/);
    expect(error).toMatch(new RegExp(`cannot write checkpoint ${checkpoints}/step-\\d+: E(PERM|ACCES) \\(.*\\) at \\w+ '${checkpoints}/`));
    expect(error).toContain(`the last good checkpoint is ${good}`);
    expect(error).toContain(`--resume --run-dir ${runDir}`);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('a checkpoint that fails is written once the directory is writable again, and the run goes on to its end', { timeout: RUN_TIMEOUT_MS }, async () => {
    const runDir = tempDir('ckpt-recovers');
    cleanups.push(() => rmSync(runDir, { recursive: true, force: true }));
    const run = standalone(runDir, ['--max-steps', '12', '--checkpoint-every', '3', '--checkpoint-retry', '120']);
    processes.push(run);
    const checkpoints = join(runDir, 'checkpoints');
    await waitForFile(join(checkpoints, 'LATEST'));
    const undo = makeUnwritable(checkpoints);
    cleanups.push(() => undo());
    await run.waitForLine(/cannot write checkpoint .*tries again in/, LINE_TIMEOUT_MS);
    undo();
    cleanups.pop();
    await run.waitForLine(/wrote checkpoint .* at attempt \d+; training goes on/, LINE_TIMEOUT_MS);
    expect(await run.exit(RUN_TIMEOUT_MS)).toBe(0);
    expect(run.summary()).toMatchObject({ steps: 12, interrupted: false });
    expect(expectConsecutive(stepRecords(runDir), 12)).toBeNull();
  });

  it('SIGTERM while a checkpoint is being retried makes one more try, then exits 74', { timeout: RUN_TIMEOUT_MS }, async () => {
    const runDir = tempDir('ckpt-sigterm');
    cleanups.push(() => rmSync(runDir, { recursive: true, force: true }));
    const run = standalone(runDir, ['--max-steps', '1000', '--checkpoint-every', '3', '--checkpoint-retry', '300']);
    processes.push(run);
    const checkpoints = join(runDir, 'checkpoints');
    await waitForFile(join(checkpoints, 'LATEST'));
    cleanups.push(makeUnwritable(checkpoints));
    await run.waitForLine(/cannot write checkpoint .*tries again in/, LINE_TIMEOUT_MS);
    run.signal('SIGTERM');
    await run.waitForLine(/stop requested: one more try at checkpoint/, 10_000);
    expect(await run.exit(30_000)).toBe(CHECKPOINT_FAILURE_EXIT_CODE);
    expect(run.linesMatching(/ERROR/)[0]).toMatch(/tried 2 time\(s\) .* and the run was asked to stop/);
  });

  it('a full disk (a small tmpfs filled up): metrics.jsonl and the checkpoint wait, nothing stops, and every record is written once space is freed', { timeout: RUN_TIMEOUT_MS }, async (context) => {
    const skip = rootOnly();
    if (skip) return context.skip(skip);
    const disk = smallTmpfs(TMPFS_BYTES);
    cleanups.push(disk.remove);
    const runDir = join(disk.dir, 'run');
    // The first checkpoint comes after metrics.jsonl has filled the last page tmpfs had given it.
    const run = standalone(runDir, ['--max-steps', String(FULL_DISK_STEPS), '--checkpoint-every', '30', '--checkpoint-retry', '120']);
    processes.push(run);
    await run.waitForLine(/training \d+ steps/, START_TIMEOUT_MS);
    await waitForFile(join(runDir, 'metrics.jsonl'));
    const filler = join(disk.dir, 'filler');
    fillUp(filler);

    await run.waitForLine(/cannot append to .*metrics\.jsonl: ENOSPC \(no space left on device\).*; training goes on/, LINE_TIMEOUT_MS);
    await run.waitForLine(/cannot write checkpoint .*: ENOSPC \(no space left on device\).*tries again in/, LINE_TIMEOUT_MS);
    unlinkSync(filler);
    await run.waitForLine(/metrics\.jsonl can be written again: wrote \d+ record\(s\) kept in memory/, LINE_TIMEOUT_MS);
    expect(await run.exit(RUN_TIMEOUT_MS)).toBe(0);
    expect(run.summary()).toMatchObject({ steps: FULL_DISK_STEPS, interrupted: false });
    expect(expectConsecutive(stepRecords(runDir), FULL_DISK_STEPS)).toBeNull();
    const lines = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n');
    expect(lines.every((l) => JSON.parse(l).type)).toBe(true);
  });
});

function waitForFile(file: string, timeoutMs = RUN_TIMEOUT_MS): Promise<void> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const check = () => {
      if (existsSync(file)) return resolve();
      if (Date.now() - started > timeoutMs) return reject(new Error(`${file} did not appear within ${timeoutMs} ms`));
      setTimeout(check, 20);
    };
    check();
  });
}

/** Writes `file` until the file system has no space left. */
function fillUp(file: string): void {
  const chunk = Buffer.alloc(64 * 1024, 1);
  let written = Buffer.alloc(0);
  for (;;) {
    try {
      written = Buffer.concat([written, chunk]);
      writeFileSync(file, written);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOSPC') return;
      throw e;
    }
  }
}

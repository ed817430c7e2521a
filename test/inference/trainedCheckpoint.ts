// A small trained checkpoint for the predict and serve tests, trained once with the real CLI
// and reused while the code that produced it is unchanged (the cache key hashes src/ and the
// kernels). DSDC_TEST_CHECKPOINT=DIR uses a given checkpoint or run dir instead.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, runCli } from '../helpers/cli.js';

/** About 90% test accuracy in well under a minute on the wasm backend. */
export const TRAIN_ARGS = [
  'worker', '--standalone', '--backend', 'wasm', '--epochs', '1', '--max-steps', '150', '--batch-size', '64',
  '--train-limit', '8000', '--bn-momentum', '0.9', '--no-eval', '--log-level', 'warn', '--json',
];
export const TRAIN_TIMEOUT_MS = 240_000;

export async function trainedCheckpoint(): Promise<string> {
  const given = process.env.DSDC_TEST_CHECKPOINT;
  if (given) return given;
  const runDir = join(tmpdir(), `dsdc-predict-test-run-${sourceHash().slice(0, 16)}`);
  if (existsSync(join(runDir, 'checkpoints', 'LATEST'))) return runDir;
  const staging = `${runDir}.tmp-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  const result = await runCli([...TRAIN_ARGS, '--run-dir', staging], { timeoutMs: TRAIN_TIMEOUT_MS });
  if (result.code !== 0) throw new Error(`training the test checkpoint failed (exit ${result.code}):\n${result.stderr.slice(-3000)}`);
  rmSync(runDir, { recursive: true, force: true });
  renameSync(staging, runDir);
  return runDir;
}

function sourceHash(): string {
  const hash = createHash('sha256').update(TRAIN_ARGS.join(' '));
  const visit = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (/\.(ts|wasm)$/.test(entry.name)) hash.update(path).update(readFileSync(path));
    }
  };
  visit(join(REPO_ROOT, 'src'));
  visit(join(REPO_ROOT, 'kernels'));
  return hash.digest('hex');
}

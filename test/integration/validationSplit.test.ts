// --val-split, --save-best and --early-stop from the command line: validation scores in each
// epoch record and summary line, the best epoch kept as checkpoints/best, a run that stops once
// its metric has not improved for --early-stop epochs, and a resume that goes on counting.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { maxRelativeDifference, readCheckpointWeights } from '../helpers/checkpointWeights.js';
import { runCli, tempDir } from '../helpers/cli.js';

const RUN_TIMEOUT_MS = 240_000;
// 256 examples, 64 held out: 3 steps of 64 per epoch. A learning rate this small and no batch
// norm leave the predictions as they were, so the validation accuracy never beats its first value.
const FROZEN_RUN = ['worker', '--standalone', '--backend', 'wasm', '--train-limit', '256', '--val-split', '64', '--batch-size', '64', '--no-eval', '--no-batch-norm', '--learning-rate', '1e-9', '--augment', '0', '--epochs', '6', '--log-level', 'info', '--json'];

const records = (runDir: string) =>
  readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('a validation split', () => {
  it('scores every epoch (val_loss, val_accuracy), says so in the epoch line, and keeps the best epoch', { timeout: RUN_TIMEOUT_MS }, async () => {
    const runDir = join(tempDir('val-split'), 'run');
    const result = await runCli(['worker', '--standalone', '--backend', 'wasm', '--train-limit', '320', '--val-split', '0.2', '--batch-size', '32', '--epochs', '2', '--test-limit', '50', '--save-best', 'val_loss', '--log-level', 'info', '--json', '--run-dir', runDir], { timeoutMs: RUN_TIMEOUT_MS });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('--val-split 0.2: 64 training examples held out for validation, 256 left to train on');
    expect(result.stderr).toMatch(/epoch 1\/2 done(?: in \S+)?: loss [\d.]+, train acc [\d.]+%, val loss [\d.]+, val acc [\d.]+%, test acc/);
    const epochs = records(runDir).filter((r) => r.type === 'epoch');
    expect(epochs).toHaveLength(2);
    for (const epoch of epochs) {
      expect(epoch.val_loss).toEqual(expect.any(Number));
      expect(epoch.val_accuracy).toBeGreaterThanOrEqual(0);
    }
    // 256 examples to train on at 32 a step: the held-out ones are never in a batch.
    expect(records(runDir).filter((r) => r.type === 'step')).toHaveLength(16);
    const bestEpoch = (epochs[1].val_loss as number) < (epochs[0].val_loss as number) ? 2 : 1;
    const best = join(runDir, 'checkpoints', 'best');
    expect(result.json!.best_checkpoint).toBe(best);
    expect(JSON.parse(readFileSync(join(best, 'state.json'), 'utf8')).step).toBe(8 * bestEpoch);
    expect(existsSync(join(best, 'manifest.json'))).toBe(true);
    expect(readFileSync(join(runDir, 'checkpoints', 'LATEST'), 'utf8').trim()).toBe('step-0000000016');
    expect(result.json!.val_loss).toBeCloseTo(epochs[1].val_loss as number, 4);
  });

  it('--early-stop ends the run once the metric has not improved for that many epochs, and a resume keeps counting', { timeout: 2 * RUN_TIMEOUT_MS }, async () => {
    const runDir = join(tempDir('early-stop'), 'run');
    // Two epochs (6 steps): the first is the best, the second one without improvement.
    const first = await runCli([...FROZEN_RUN, '--save-best', 'val_accuracy', '--early-stop', '2', '--max-steps', '6', '--run-dir', runDir], { timeoutMs: RUN_TIMEOUT_MS });
    expect(first.code, first.stderr).toBe(0);
    expect(first.json!.stopped_early).toBeUndefined();
    const state = JSON.parse(readFileSync(join(runDir, 'checkpoints', 'step-0000000006', 'state.json'), 'utf8'));
    expect(state.selection).toMatchObject({ metric: 'val_accuracy', bestEpoch: 0, epochsSinceBest: 1 });

    // Resumed without a step limit: the third epoch is the second without improvement, so it stops there, not after six.
    const resumed = await runCli([...FROZEN_RUN, '--max-steps', '0', '--run-dir', runDir, '--resume'], { timeoutMs: RUN_TIMEOUT_MS });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.json!.steps).toBe(9);
    expect(resumed.json!.stopped_early).toMatch(/^stopping early \(--early-stop 2\): val_accuracy has not improved for 2 epoch\(s\) since its best, [\d.]+ at epoch 1$/);
    expect(resumed.stderr).toContain('stopping early (--early-stop 2)');
    expect(resumed.stdout).not.toContain('"interrupted":true');
    expect(JSON.parse(readFileSync(join(runDir, 'checkpoints', 'best', 'state.json'), 'utf8')).step).toBe(3);
  });

  it('train --workers 2 keeps the best epoch and stops early as the standalone worker does', { timeout: RUN_TIMEOUT_MS }, async () => {
    const runDir = join(tempDir('early-stop-train'), 'run');
    const result = await runCli(['train', '--workers', '2', ...FROZEN_RUN.slice(2), '--save-best', 'val_accuracy', '--early-stop', '2', '--run-dir', runDir], { timeoutMs: RUN_TIMEOUT_MS });
    expect(result.code, result.stderr.slice(-2000)).toBe(0);
    // Epoch 1 is the best; epochs 2 and 3 do not improve on it, so the coordinator stops after 9 of the 18 steps.
    expect(result.json!.steps).toBe(9);
    expect(result.json!.stopped_early).toMatch(/^stopping early \(--early-stop 2\): val_accuracy has not improved for 2 epoch\(s\) since its best, [\d.]+ at epoch 1$/);
    expect(result.json!.best_checkpoint).toBe(join(runDir, 'checkpoints', 'best'));
    expect(JSON.parse(readFileSync(join(runDir, 'checkpoints', 'best', 'state.json'), 'utf8')).step).toBe(3);
    expect(records(runDir).filter((r) => r.type === 'epoch').map((r) => r.val_accuracy)).toHaveLength(3);
  });

  it('2 workers hold out the same examples as one process and train the same model (no batch norm, three steps)', { timeout: 2 * RUN_TIMEOUT_MS }, async () => {
    const flags = ['--backend', 'wasm', '--train-limit', '256', '--val-split', '0.25', '--batch-size', '64', '--epochs', '1', '--no-eval', '--no-batch-norm', '--seed', '3', '--log-level', 'warn', '--json'];
    const standalone = await runCli(['worker', '--standalone', ...flags, '--run-dir', join(tempDir('val-one'), 'run')], { timeoutMs: RUN_TIMEOUT_MS });
    const distributed = await runCli(['train', '--workers', '2', ...flags, '--run-dir', join(tempDir('val-two'), 'run')], { timeoutMs: RUN_TIMEOUT_MS });
    for (const result of [standalone, distributed]) expect(result.code, result.stderr.slice(-2000)).toBe(0);
    expect(distributed.json!.steps).toBe(3);
    const one = readCheckpointWeights(standalone.json!.checkpoint as string);
    const two = readCheckpointWeights(distributed.json!.checkpoint as string);
    for (const [name, values] of one) expect(maxRelativeDifference(two.get(name)!, values), name).toBeLessThan(1e-4);
    expect(distributed.json!.val_accuracy).toBeCloseTo(standalone.json!.val_accuracy as number, 3);
  });

  it('--save-best and --early-stop without --val-split are refused, naming both flags', { timeout: 300_000 }, async () => {
    for (const flags of [['--save-best', 'val_accuracy'], ['--early-stop', '3']]) {
      const result = await runCli(['worker', '--standalone', '--print-config', ...flags]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`${flags[0]} needs --val-split: it follows a validation metric`);
    }
  });
});

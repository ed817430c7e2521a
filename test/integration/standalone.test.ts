// The standalone worker from the command line, as a user runs it: it trains, the loss falls,
// it writes a loadable checkpoint, evaluate reads it, and a resumed run continues exactly.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { maxRelativeDifference, readCheckpointWeights } from '../helpers/checkpointWeights.js';
import { SMALL_RUN, runCli, tempDir } from '../helpers/cli.js';

describe('dsdc-dist worker --standalone', () => {
  it('prints help without any optional TensorFlow package', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    for (const command of ['train', 'coordinator', 'worker', 'evaluate']) expect(result.stdout).toContain(command);
  });

  it('trains: the loss falls and the JSON summary names the checkpoint', async () => {
    const runDir = tempDir('standalone');
    const result = await runCli(['worker', '--standalone', ...SMALL_RUN, '--batch-size', '64', '--max-steps', '30', '--lr', '3e-3', '--run-dir', runDir, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const summary = result.json!;
    expect(summary.steps).toBe(30);
    expect(summary.backend).toBe('wasm');
    expect(summary.images_per_s).toBeGreaterThan(0);
    expect(existsSync(join(summary.checkpoint as string, 'model.json'))).toBe(true);
    const lines = (await import('node:fs')).readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const losses = lines.filter((l) => l.type === 'step').map((l) => l.loss as number);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(losses.slice(-5))).toBeLessThan(mean(losses.slice(0, 5)) - 0.5);

    const evaluated = await runCli(['evaluate', '--checkpoint', runDir, '--backend', 'wasm', '--test-limit', '300', '--json']);
    expect(evaluated.code, evaluated.stderr).toBe(0);
    expect(evaluated.json!.examples).toBe(300);
    expect(evaluated.json!.test_accuracy).toBeCloseTo(summary.test_accuracy as number, 4);
    expect((evaluated.json!.confusion_matrix as number[][]).length).toBe(10);
    // snake_case throughout, as in every other --json output.
    expect(Object.keys(evaluated.json!.macro as object).sort()).toEqual(['f1', 'precision', 'recall', 'roc_auc']);
    expect(Object.keys(summary.step_timings_ms as object)).toEqual(expect.arrayContaining(['compute', 'apply', 'total']));
  });

  it('rejects an unknown backend value with a message naming the flag', async () => {
    const result = await runCli(['worker', '--standalone', '--backend', 'tpu']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/backend/);
  });

  it('resumes a run exactly: 4 steps + resume to 8 equals 8 steps in one go', async () => {
    const flags = [...SMALL_RUN, '--batch-size', '32', '--no-eval', '--checkpoint-every', '100'];
    const straight = tempDir('straight');
    const split = tempDir('split');
    const one = await runCli(['worker', '--standalone', ...flags, '--max-steps', '8', '--run-dir', straight, '--json']);
    const first = await runCli(['worker', '--standalone', ...flags, '--max-steps', '4', '--run-dir', split, '--json']);
    const second = await runCli(['worker', '--standalone', ...flags, '--max-steps', '8', '--run-dir', split, '--resume', '--json']);
    for (const r of [one, first, second]) expect(r.code, r.stderr).toBe(0);
    expect(second.json!.steps).toBe(8);
    const a = readCheckpointWeights(one.json!.checkpoint as string);
    const b = readCheckpointWeights(second.json!.checkpoint as string);
    for (const [name, values] of a) expect(maxRelativeDifference(b.get(name)!, values), name).toBe(0);
  });
});

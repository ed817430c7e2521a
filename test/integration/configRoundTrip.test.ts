// A run's config.yaml runs it again: a second run started from the first one's config.yaml
// (and nothing else but another --run-dir) ends with the same weights, byte for byte, and the
// same metrics apart from times. The secret never reaches the file.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCli, tempDir } from '../helpers/cli.js';

const RUN_TIMEOUT_MS = 240_000;
const SECRET = 'round-trip-secret-0123456789abcdef0123';
const FIRST_RUN = ['--backend', 'wasm', '--train-limit', '320', '--test-limit', '60', '--batch-size', '32', '--epochs', '2', '--max-steps', '14', '--val-split', '0.2', '--learning-rate', '0.002', '--seed', '7', '--log-level', 'warn', '--json'];

/** metrics.jsonl without what depends on the clock or the run directory's name. */
function timelessMetrics(runDir: string): unknown[] {
  // Times, throughput and wall clock under any spelling (timings, step_timings_ms, wallSeconds, wall_s, images_per_s), and paths.
  const clocked = (key: string) => /time|timing|wall|images_?per|checkpoint/i.test(key);
  return readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => Object.fromEntries(Object.entries(JSON.parse(line) as Record<string, unknown>).filter(([key]) => !clocked(key))));
}

describe('config.yaml of a run', () => {
  it('reproduces the run bit for bit, and holds no secret', { timeout: 2 * RUN_TIMEOUT_MS }, async () => {
    const root = tempDir('config-round-trip');
    const first = join(root, 'first');
    const second = join(root, 'second');
    const env = { DSDC_TOKEN: SECRET, DSDC_AUGMENT: '1' };
    const a = await runCli(['worker', '--standalone', ...FIRST_RUN, '--run-dir', first], { env, timeoutMs: RUN_TIMEOUT_MS });
    expect(a.code, a.stderr).toBe(0);
    const file = join(first, 'config.yaml');
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain(SECRET);
    const settings = parse(text) as Record<string, unknown>;
    // The command line, the variable (DSDC_AUGMENT) and the defaults, all resolved.
    expect(settings).toMatchObject({ train_limit: 320, batch_size: 32, val_split: 0.2, learning_rate: 0.002, seed: 7, augment: 1, standalone: true, schedule: 'cosine' });
    expect(settings).not.toHaveProperty('run_dir');

    const b = await runCli(['worker', '--config', file, '--run-dir', second], { env: { DSDC_TOKEN: '' }, timeoutMs: RUN_TIMEOUT_MS });
    expect(b.code, b.stderr).toBe(0);
    const checkpoint = (run: string) => join(run, 'checkpoints', 'step-0000000014');
    expect(existsSync(join(checkpoint(second), 'weights.bin'))).toBe(true);
    expect(readFileSync(join(checkpoint(second), 'weights.bin')).equals(readFileSync(join(checkpoint(first), 'weights.bin')))).toBe(true);
    expect(readFileSync(join(checkpoint(second), 'optimizer.bin')).equals(readFileSync(join(checkpoint(first), 'optimizer.bin')))).toBe(true);
    expect(timelessMetrics(second)).toEqual(timelessMetrics(first));
    expect(readFileSync(join(second, 'config.yaml'), 'utf8')).toBe(text);
    expect(b.json!.val_accuracy).toBe(a.json!.val_accuracy);
  });
});

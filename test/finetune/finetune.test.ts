// Fine-tune mode end to end with the real CLI (coordinator and worker processes on 127.0.0.1, a
// small slice of MNIST, a few steps): frozen weights stay bit-identical to the source checkpoint,
// only trainable variables cross the wire after the welcome, and a distributed fine-tune trains
// the model a standalone one does.
import { beforeAll, describe, expect, it } from 'vitest';
import { maxRelativeDifference, readCheckpointWeights } from '../helpers/checkpointWeights.js';
import { runCli, tempDir } from '../helpers/cli.js';

const BASE = ['--backend', 'wasm', '--train-limit', '1024', '--test-limit', '300', '--log-level', 'warn', '--batch-size', '64', '--no-eval', '--seed', '3'];
const RUN_TIMEOUT_MS = 180_000;
/** Frozen layers of DSDC-Net under all-but-last:2 (trainable: sdc4, sdc4_bn, head). */
const FROZEN_BY_ALL_BUT_LAST_2 = ['stem_conv', 'stem_bn', 'sdc1', 'sdc1_bn', 'sdc2', 'sdc2_bn', 'sdc3', 'sdc3_bn'];
/** Allowance per worker and step for what is not tensor data (msgpack keys, ~60 bytes of name and shape per tensor, counts, timings): 31 tensors each way for the full model. */
const FIXED_OVERHEAD_BYTES_PER_WORKER = 4096;
const BYTES_PER_VALUE = 4;

interface Run {
  summary: Record<string, unknown>;
  weights: Map<string, Float32Array>;
}

async function cli(args: string[], steps: number): Promise<Run> {
  const runDir = tempDir('finetune');
  const result = await runCli([...args, ...BASE, '--max-steps', String(steps), '--run-dir', runDir, '--json'], { timeoutMs: RUN_TIMEOUT_MS });
  expect(result.code, result.stderr.slice(-3000)).toBe(0);
  expect(result.json!.steps).toBe(steps);
  return { summary: result.json!, weights: readCheckpointWeights(result.json!.checkpoint as string) };
}

const pretrain = (extra: string[]) => cli(['worker', '--standalone', ...extra], 6);
const finetune = (from: Run, mode: 'standalone' | number, extra: string[], steps = 6) =>
  cli(['finetune', '--from', from.summary.checkpoint as string, ...(mode === 'standalone' ? ['--standalone'] : ['--workers', String(mode)]), ...extra], steps);

const layerOf = (name: string) => name.slice(0, name.indexOf('/'));
const sizeOf = (names: string[], weights: Map<string, Float32Array>) => names.reduce((sum, n) => sum + weights.get(n)!.length, 0);

describe('dsdc-dist finetune', () => {
  let withBatchNorm: Run;
  let withoutBatchNorm: Run;
  beforeAll(async () => {
    withBatchNorm = await pretrain([]);
    withoutBatchNorm = await pretrain(['--no-batch-norm']);
  }, 2 * RUN_TIMEOUT_MS);

  it('after a distributed fine-tune with all-but-last:2, every frozen weight is bit-identical to the checkpoint and every unfrozen one changed', async () => {
    const tuned = await finetune(withBatchNorm, 2, ['--freeze', 'all-but-last:2']);
    const source = withBatchNorm.weights;
    expect(tuned.weights.size).toBe(source.size);
    let frozen = 0;
    for (const [name, before] of source) {
      const after = tuned.weights.get(name)!;
      if (FROZEN_BY_ALL_BUT_LAST_2.includes(layerOf(name))) {
        expect(Buffer.from(after.buffer, after.byteOffset, after.byteLength).equals(Buffer.from(before.buffer, before.byteOffset, before.byteLength)), `${name} is frozen`).toBe(true);
        frozen++;
      } else {
        expect(maxRelativeDifference(after, before), `${name} trains`).toBeGreaterThan(0);
      }
    }
    expect(frozen).toBe(23);
  }, RUN_TIMEOUT_MS);

  it('bytes per step, head only, are at most 5% of full training and within a fixed overhead of 4 × trainable values × 2 per worker', async () => {
    const workers = 2;
    const headOnly = await finetune(withBatchNorm, workers, ['--freeze', 'all-but-last:1'], 3);
    const full = await finetune(withBatchNorm, workers, ['--freeze', 'none'], 3);
    const headBytes = headOnly.summary.bytes_per_step as number;
    const fullBytes = full.summary.bytes_per_step as number;
    const headValues = sizeOf(['head/kernel', 'head/bias'], headOnly.weights);
    const trainableValues = sizeOf([...full.weights.keys()].filter((n) => !/moving_/.test(n)), full.weights);
    const statisticValues = sizeOf([...full.weights.keys()].filter((n) => /moving_/.test(n)), full.weights);
    console.log(`bytes per step with ${workers} workers: head only ${headBytes}, full ${fullBytes} (${((100 * headBytes) / fullBytes).toFixed(2)}%)`);
    expect(headBytes / fullBytes).toBeLessThanOrEqual(0.05);
    const payload = (values: number) => workers * BYTES_PER_VALUE * values * 2;
    expect(headBytes).toBeGreaterThanOrEqual(payload(headValues));
    expect(headBytes).toBeLessThanOrEqual(payload(headValues) + workers * FIXED_OVERHEAD_BYTES_PER_WORKER);
    // Full training also carries every moving statistic both ways.
    expect(fullBytes).toBeGreaterThanOrEqual(payload(trainableValues + statisticValues));
    expect(fullBytes).toBeLessThanOrEqual(payload(trainableValues + statisticValues) + workers * FIXED_OVERHEAD_BYTES_PER_WORKER);
  }, 2 * RUN_TIMEOUT_MS);

  it('without batch norm, 2 workers fine-tuning all-but-last:2 end within 1e-4 (max relative difference) of standalone', async () => {
    const reference = await finetune(withoutBatchNorm, 'standalone', ['--freeze', 'all-but-last:2'], 10);
    const distributed = await finetune(withoutBatchNorm, 2, ['--freeze', 'all-but-last:2'], 10);
    for (const [name, values] of reference.weights) {
      expect(maxRelativeDifference(distributed.weights.get(name)!, values), name).toBeLessThan(1e-4);
    }
  }, 2 * RUN_TIMEOUT_MS);

  it('with every batch norm frozen (head only, new head for classes 5-9), 2 workers end within 1e-4 of standalone', async () => {
    const flags = ['--freeze', 'all-but-last:1', '--classes', '5-9'];
    const reference = await finetune(withBatchNorm, 'standalone', flags, 10);
    const distributed = await finetune(withBatchNorm, 2, flags, 10);
    expect(reference.weights.get('head/bias')!.length).toBe(5);
    for (const [name, values] of reference.weights) {
      expect(maxRelativeDifference(distributed.weights.get(name)!, values), name).toBeLessThan(1e-4);
    }
  }, 2 * RUN_TIMEOUT_MS);

  it('a fine-tune run stopped after 3 steps and resumed with --resume ends bit-identical to one run straight through', async () => {
    const flags = ['finetune', '--from', withBatchNorm.summary.checkpoint as string, '--standalone', '--freeze', 'all-but-last:2', '--classes', '5-9', ...BASE];
    const straight = await runCli([...flags, '--max-steps', '6', '--run-dir', tempDir('finetune-straight'), '--json'], { timeoutMs: RUN_TIMEOUT_MS });
    const runDir = tempDir('finetune-resumed');
    const first = await runCli([...flags, '--max-steps', '3', '--run-dir', runDir, '--json'], { timeoutMs: RUN_TIMEOUT_MS });
    const resumed = await runCli([...flags, '--max-steps', '6', '--run-dir', runDir, '--resume', '--json'], { timeoutMs: RUN_TIMEOUT_MS });
    for (const r of [straight, first, resumed]) expect(r.code, r.stderr.slice(-2000)).toBe(0);
    const expected = readCheckpointWeights(straight.json!.checkpoint as string);
    const actual = readCheckpointWeights(resumed.json!.checkpoint as string);
    for (const [name, values] of expected) expect(actual.get(name), name).toEqual(values);
  }, 2 * RUN_TIMEOUT_MS);

  it('refuses what cannot work with an error naming the flag and the problem', async () => {
    const from = withBatchNorm.summary.checkpoint as string;
    const fail = async (args: string[]) => {
      const result = await runCli(['finetune', '--standalone', ...args, ...BASE, '--run-dir', tempDir('finetune-bad')], { timeoutMs: RUN_TIMEOUT_MS });
      expect(result.code).toBe(1);
      return result.stderr;
    };
    expect(await fail(['--from', from, '--freeze', 'head', '--classes', '5-9'])).toMatch(/--freeze 'head' freezes 'head', but this run needs a new head \(the checkpoint's head has 10 classes, this run has 5\)/);
    expect(await fail(['--from', from, '--freeze', 'sdc7'])).toMatch(/--freeze 'sdc7': the model has no layer 'sdc7'/);
    expect(await fail(['--from', from, '--freeze', 'all-but-last:x'])).toMatch(/--freeze 'all-but-last:x': K in all-but-last:K must be an integer/);
    expect(await fail(['--from', tempDir('finetune-empty')])).toMatch(/--from .*finetune-empty/);
  }, RUN_TIMEOUT_MS);
});

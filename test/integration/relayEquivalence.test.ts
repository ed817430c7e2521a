// Host-level aggregation must not change what is trained: 2 relays × 2 local workers end with
// the weights of 4 direct workers (same seed, same global batch), up to float32 rounding, as
// the 1-vs-N test in equivalence.test.ts checks for direct workers (no batch norm, lr 3e-4 so
// rounding is not amplified past 1e-4). And the coordinator's bytes per step halve: it sends
// and receives one copy per relay instead of one per worker.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { maxRelativeDifference, readCheckpointWeights } from '../helpers/checkpointWeights.js';
import { SMALL_RUN, runCli, tempDir } from '../helpers/cli.js';
import { startRelayRun } from '../helpers/relays.js';

const STEPS = 10;
const FLAGS = [...SMALL_RUN, '--batch-size', '64', '--no-eval', '--seed', '7', '--no-batch-norm'];
/** With batch norm: 64 over 2 relays × 2 gives each worker the quarter 4 direct workers get, so even the statistics match. */
const BN_FLAGS = [...SMALL_RUN, '--batch-size', '64', '--no-eval', '--seed', '7'];
const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function runDir(prefix: string): string {
  dirs.push(tempDir(prefix));
  return dirs.at(-1)!;
}

async function trainDirect(workers: number, flags: string[]) {
  const direct = await runCli(['train', '--workers', String(workers), ...flags, '--run-dir', runDir('relay-direct'), '--json'], { timeoutMs: 240_000 });
  expect(direct.code, direct.stderr.slice(-2000)).toBe(0);
  return { runDir: dirs.at(-1)!, summary: direct.json!, weights: readCheckpointWeights(direct.json!.checkpoint as string) };
}

async function trainWithRelays(relayCount: number, perRelay: number, flags: string[]) {
  const dir = runDir('relay-relayed');
  const run = await startRelayRun(relayCount, perRelay, [...flags, '--run-dir', dir, '--json']);
  const coordinator = await run.coordinator;
  const relays = await Promise.all(run.relays);
  expect(coordinator.code, coordinator.stderr.slice(-2000)).toBe(0);
  for (const relay of relays) expect(relay.code, relay.stderr.slice(-2000)).toBe(0);
  expect(coordinator.json!.workers).toBe(relayCount);
  return { runDir: dir, summary: coordinator.json!, weights: readCheckpointWeights(coordinator.json!.checkpoint as string) };
}

function stepLosses(dir: string): number[] {
  return readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line))
    .filter((r) => r.type === 'step')
    .map((r) => r.loss);
}

function expectSameWeights(actual: Map<string, Float32Array>, reference: Map<string, Float32Array>, tolerance: number): void {
  expect(actual.size).toBe(reference.size);
  for (const [name, values] of reference) expect(maxRelativeDifference(actual.get(name)!, values), name).toBeLessThan(tolerance);
}

describe('workers behind relays train the same model as direct workers', () => {
  it('after one step at the default rate, 2 relays × 2 workers equal 4 direct workers up to float32 rounding', async () => {
    const flags = [...FLAGS, '--max-steps', '1'];
    const direct = await trainDirect(4, flags);
    const relayed = await trainWithRelays(2, 2, flags);
    expectSameWeights(relayed.weights, direct.weights, 2e-6);
  }, 600_000);

  it('2 relays × 2 workers end 10 steps within 1e-4 of 4 direct workers, with half the coordinator bytes per step', async () => {
    const flags = [...FLAGS, '--lr', '3e-4', '--max-steps', String(STEPS)];
    const directRun = await trainDirect(4, flags);
    const relayedRun = await trainWithRelays(2, 2, flags);
    expect(relayedRun.summary.steps).toBe(STEPS);
    expectSameWeights(relayedRun.weights, directRun.weights, 1e-4);
    const ratio = (directRun.summary.bytes_per_step as number) / (relayedRun.summary.bytes_per_step as number);
    expect(ratio).toBeGreaterThan(1.98);
    expect(ratio).toBeLessThan(2.02);
  }, 600_000);

  // With batch norm, Adam's first steps turn rounding-sized differences in near-zero gradients
  // (β, γ) into whole learning-rate steps, so, as in equivalence.test.ts, the curves are compared.
  it('with batch norm, the loss curves of 2 relays × 2 workers and 4 direct workers stay within 1 %', async () => {
    const flags = [...BN_FLAGS, '--max-steps', String(STEPS)];
    const direct = await trainDirect(4, flags);
    const relayed = await trainWithRelays(2, 2, flags);
    const a = stepLosses(direct.runDir);
    const b = stepLosses(relayed.runDir);
    expect(b.length).toBe(STEPS);
    expect(Math.abs(a[0] - b[0]), 'step 1: same weights, same parts').toBeLessThan(1e-5 * a[0]);
    a.forEach((loss, i) => expect(Math.abs(loss - b[i]), `step ${i + 1}`).toBeLessThan(0.01 * loss));
  }, 600_000);
});

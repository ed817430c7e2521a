// --wire-dtype with real processes: a float16 run of 2 workers trains and its frames are about half
// the size of a float32 run's; the workers learn the dtype from the welcome; and a float16 coordinator
// refuses gradients in another dtype and reduced-precision tensors of the wrong byte length.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeTensorValues, encodeTensor, type GradientsMessage, type WelcomeMessage } from '../../src/protocol/index.js';
import { SMALL_RUN, runCli, tempDir } from '../helpers/cli.js';
import { startRelayRun } from '../helpers/relays.js';
import { CliProcess, START_TIMEOUT_MS, coordinatorArgs, freePort, stepRecords, workerArgs } from '../reliability/harness.js';
import { RogueWorker } from '../reliability/rogueWorker.js';

const STEPS = 8;
const RUN_TIMEOUT_MS = 180_000;

interface StepBytes {
  loss: number;
  bytes: number;
}

async function trainWith(dtype: string): Promise<{ summary: Record<string, unknown>; steps: StepBytes[] }> {
  const runDir = tempDir(`wire-${dtype}`);
  const args = ['train', '--workers', '2', ...SMALL_RUN, '--batch-size', '64', '--max-steps', String(STEPS), '--no-eval', '--seed', '3', '--wire-dtype', dtype];
  const result = await runCli([...args, '--run-dir', runDir, '--json'], { timeoutMs: RUN_TIMEOUT_MS });
  expect(result.code, result.stderr.slice(-2000)).toBe(0);
  const steps = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { type: string } & StepBytes)
    .filter((r) => r.type === 'step');
  return { summary: result.json!, steps };
}

describe('--wire-dtype float16 in a real 2-worker run', () => {
  it('trains (the loss falls) with frames half the size of float32 frames', { timeout: 2 * RUN_TIMEOUT_MS }, async () => {
    const full = await trainWith('float32');
    const half = await trainWith('float16');
    expect(half.steps.length).toBe(STEPS);
    const losses = half.steps.map((s) => s.loss);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(losses.slice(-3))).toBeLessThan(mean(losses.slice(0, 3)));
    // Every step moves the same tensors: gradients up from 2 workers, weights down to 2.
    const ratio = (half.summary.bytes_per_step as number) / (full.summary.bytes_per_step as number);
    expect(ratio).toBeGreaterThan(0.49);
    // Less the batch-norm statistics, which stay float32 (832 of 36,554 values).
    expect(ratio).toBeLessThan(0.53);
    // Rounded weights and gradients still follow the float32 run's course.
    expect(Math.abs((half.summary.final_loss as number) - (full.summary.final_loss as number))).toBeLessThan(0.15);
  });
});

describe('--wire-dtype float16 through a relay', () => {
  it('the relay and its workers take the dtype from the welcome; every step counts in full, and the run trains', { timeout: RUN_TIMEOUT_MS }, async () => {
    const runDir = tempDir('wire-relay');
    const run = await startRelayRun(1, 2, [...SMALL_RUN, '--batch-size', '64', '--max-steps', String(STEPS), '--no-eval', '--seed', '3', '--wire-dtype', 'float16', '--run-dir', runDir, '--json']);
    const [coordinator, relay] = await Promise.all([run.coordinator, run.relays[0]]);
    expect(coordinator.code, coordinator.stderr.slice(-2000)).toBe(0);
    expect(relay.code, relay.stderr.slice(-2000)).toBe(0);
    // The coordinator refuses gradients in any other dtype than the run's: a relay that summed in
    // float32 and sent that would lose its part of every step.
    expect(coordinator.stderr).not.toMatch(/refused/);
    const steps = stepRecords(runDir) as unknown as { examples: number; loss: number }[];
    expect(steps.map((r) => r.examples)).toEqual(Array(STEPS).fill(64));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(steps.slice(-3).map((r) => r.loss))).toBeLessThan(mean(steps.slice(0, 3).map((r) => r.loss)));
  });
});

describe('a float16 coordinator and what it accepts', () => {
  const processes: CliProcess[] = [];
  const rogues: RogueWorker[] = [];
  afterEach(() => {
    processes.splice(0).forEach((p) => p.stop());
    rogues.splice(0).forEach((r) => r.close());
  });

  it('welcomes in float16, refuses float32 gradients and float16 tensors of float32 length, and finishes with the honest worker', { timeout: RUN_TIMEOUT_MS }, async () => {
    const token = 'wire-dtype-test-secret';
    const env = { DSDC_TOKEN: token };
    const port = await freePort();
    const runDir = tempDir('wire-refusal');
    const steps = 5;
    const coordinator = new CliProcess('coordinator', coordinatorArgs(port, runDir, 2, ['--max-steps', String(steps), '--no-eval', '--wire-dtype', 'float16', '--max-refused-frames', '100']), env);
    processes.push(coordinator);
    await coordinator.waitForLine(/listening on ws:/, START_TIMEOUT_MS);
    processes.push(new CliProcess('honest worker', workerArgs(port, 'honest'), env));
    const rogue = await RogueWorker.connect(`ws://127.0.0.1:${port}`, { token });
    rogues.push(rogue);
    const welcome = await rogue.next((m): m is WelcomeMessage => m.type === 'welcome', START_TIMEOUT_MS, 'welcome');
    expect(welcome.wireDtype).toBe('float16');
    // Everything in float16 except the moving statistics, which always travel as float32.
    const statistics = new Set(welcome.statistics);
    expect(statistics.size).toBeGreaterThan(0);
    for (const t of welcome.weights) expect(t.dtype, t.name).toBe(statistics.has(t.name) ? 'float32' : 'float16');

    const asFloat16 = (g: GradientsMessage): GradientsMessage => ({
      ...g,
      gradients: g.gradients.map((t) => encodeTensor(t.name, t.shape, decodeTensorValues(t), 'float16')),
    });

    const first = await rogue.nextStep(START_TIMEOUT_MS);
    rogue.send(rogue.gradientsFor(first));
    await coordinator.waitForLine(/refused gradients from worker rogue for step \d+: BAD_TENSOR: tensor '[^']+': expected dtype 'float16' \(this run's for that variable\), got 'float32'/, 30_000);

    const second = await rogue.nextStep();
    const g = rogue.gradientsFor(second);
    rogue.sendRaw({ ...g, gradients: g.gradients.map((t, i) => (i === 0 ? { ...t, dtype: 'float16' } : encodeTensor(t.name, t.shape, decodeTensorValues(t), 'float16'))) });
    await coordinator.waitForLine(/refused a message from worker rogue .*BAD_TENSOR.*field 'gradients\[0\]\.data': expected \d+ bytes for float16 tensor/, 30_000);

    const third = await rogue.nextStep();
    rogue.send(asFloat16(rogue.gradientsFor(third)));
    // Good float16 answers to the rest of the run, until the coordinator is done.
    const answering = (async () => {
      for (let s = third.step + 1; s < steps; s++) rogue.send(asFloat16(rogue.gradientsFor(await rogue.nextStep())));
    })();
    expect(await coordinator.exit(RUN_TIMEOUT_MS)).toBe(0);
    await answering;
    const examples = new Map(stepRecords(runDir).map((r) => [r.step, (r as unknown as { examples: number }).examples]));
    expect(examples.size).toBe(steps);
    // The refused parts are missing from their steps; the good float16 answer counts in full.
    expect(examples.get(first.step + 1)).toBeLessThan(examples.get(third.step + 1)!);
    expect(examples.get(second.step + 1)).toBeLessThan(examples.get(third.step + 1)!);
    expect(coordinator.linesMatching(/refused .*worker honest/)).toEqual([]);
  });
});

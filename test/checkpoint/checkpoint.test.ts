import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { listCheckpoints, loadCheckpoint, saveCheckpoint } from '../../src/checkpoint/checkpoint.js';
import { adamAfterOneStep, bytesOf, denseModel, tempDir, trainStep, useCpuBackend } from './fixtures.js';

let run: Awaited<ReturnType<typeof tempDir>>;
beforeAll(useCpuBackend);
beforeEach(async () => {
  run = await tempDir();
});
afterEach(async () => run.remove());

const ckptDir = (step: number) => join(run.path, 'checkpoints', `step-${String(step).padStart(10, '0')}`);

/** Saves checkpoints of a fresh model at each step; returns the model of the last one. */
async function saveSteps(steps: number[], keep?: number): Promise<void> {
  for (const step of steps) {
    const model = denseModel(step);
    await saveCheckpoint(run.path, { model, optimizerWeights: [], state: { step } }, { keep });
    model.dispose();
  }
}

async function flipByte(file: string, at: number): Promise<void> {
  const bytes = await readFile(file);
  bytes[at] ^= 0xff;
  await writeFile(file, bytes);
}

async function loadQuietly(path: string) {
  const warnings: string[] = [];
  const loaded = await loadCheckpoint(path, { log: (m) => warnings.push(m) });
  loaded.optimizerWeights.forEach((w) => w.tensor.dispose());
  return { loaded, warnings };
}

describe('saveCheckpoint then loadCheckpoint', () => {
  it('restores bit-identical model weights, optimizer weights and state', async () => {
    const model = denseModel(3);
    const optimizer = adamAfterOneStep(model);
    const optimizerWeights = await optimizer.getWeights();
    const state = { step: 12, epoch: 2, seed: 42, config: { lr: 0.01, batch: [32, 64] } };
    const dir = await saveCheckpoint(run.path, { model, optimizerWeights, state });
    expect(dir).toBe(ckptDir(12));

    const loaded = await loadCheckpoint(run.path, { log: () => {} });
    expect(loaded.dir).toBe(dir);
    expect(loaded.state).toEqual(state);
    const restoredModel = await tf.loadLayersModel(loaded.modelArtifactsHandler);
    const restoredWeights = restoredModel.getWeights();
    model.getWeights().forEach((w, i) => expect(bytesOf(restoredWeights[i])).toEqual(bytesOf(w)));

    expect(loaded.optimizerWeights.map((w) => [w.name, w.tensor.shape, w.tensor.dtype])).toEqual(
      optimizerWeights.map((w) => [w.name, w.tensor.shape, w.tensor.dtype]),
    );
    loaded.optimizerWeights.forEach((w, i) => expect(bytesOf(w.tensor)).toEqual(bytesOf(optimizerWeights[i].tensor)));

    // The restored optimizer takes the same next step as the original one.
    const resumed = tf.train.adam(0.01);
    await resumed.setWeights(loaded.optimizerWeights);
    const beforeStep = bytesOf(model.getWeights()[0]);
    trainStep(optimizer, model);
    trainStep(resumed, restoredModel);
    expect(bytesOf(model.getWeights()[0])).not.toEqual(beforeStep);
    restoredModel.getWeights().forEach((w, i) => expect(bytesOf(w)).toEqual(bytesOf(model.getWeights()[i])));
    model.dispose();
    restoredModel.dispose();
  });

  it('writes every file with a manifest of its size and sha256', async () => {
    await saveSteps([5]);
    const dir = ckptDir(5);
    expect((await readdir(dir)).sort()).toEqual(
      ['manifest.json', 'model.json', 'optimizer.bin', 'optimizer.json', 'state.json', 'weights.bin'],
    );
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    for (const entry of manifest.files) {
      const bytes = await readFile(join(dir, entry.name));
      expect(entry.bytes).toBe(bytes.byteLength);
      expect(entry.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    }
    expect(manifest.files.map((f: { name: string }) => f.name).sort()).toEqual(
      ['model.json', 'optimizer.bin', 'optimizer.json', 'state.json', 'weights.bin'],
    );
  });

  it('does not leak tensors across save and load', async () => {
    const model = denseModel();
    const optimizer = adamAfterOneStep(model);
    const optimizerWeights = await optimizer.getWeights();
    const before = tf.memory().numTensors;
    for (let step = 0; step < 3; step++) {
      await saveCheckpoint(run.path, { model, optimizerWeights, state: { step } });
      await loadQuietly(run.path);
    }
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});

describe('LATEST and pruning', () => {
  it('points LATEST at the newest checkpoint', async () => {
    await saveSteps([1, 2, 3]);
    expect(await readFile(join(run.path, 'checkpoints', 'LATEST'), 'utf8')).toBe('step-0000000003\n');
    expect((await loadQuietly(run.path)).loaded.state.step).toBe(3);
  });

  it('keeps only the newest `keep` checkpoints', async () => {
    await saveSteps([10, 20, 30, 40], 2);
    expect((await listCheckpoints(run.path)).map((c) => c.step)).toEqual([30, 40]);
  });

  it('keeps 3 checkpoints by default', async () => {
    await saveSteps([1, 2, 3, 4, 5]);
    expect((await listCheckpoints(run.path)).map((c) => c.name)).toEqual(
      ['step-0000000003', 'step-0000000004', 'step-0000000005'],
    );
  });

  it('replaces a checkpoint saved again at the same step', async () => {
    await saveSteps([7, 7]);
    expect((await listCheckpoints(run.path)).map((c) => c.step)).toEqual([7]);
    expect((await loadQuietly(run.path)).warnings).toEqual([]);
  });

  it('rejects a state without a non-negative integer step', async () => {
    const model = denseModel();
    await expect(saveCheckpoint(run.path, { model, optimizerWeights: [], state: { step: -1 } })).rejects.toMatchObject({
      code: 'CKPT_INVALID_ARGUMENT',
    });
    model.dispose();
  });
});

describe('recovery from damaged checkpoints', () => {
  it('falls back to the previous checkpoint when weights.bin of the newest has a flipped byte', async () => {
    await saveSteps([1, 2]);
    await flipByte(join(ckptDir(2), 'weights.bin'), 10);
    const { loaded, warnings } = await loadQuietly(run.path);
    expect(loaded.dir).toBe(ckptDir(1));
    expect(warnings[0]).toContain(join(ckptDir(2), 'weights.bin'));
    expect(warnings[0]).toContain('sha256');
  });

  it('falls back when a file of the newest is truncated, naming the sizes', async () => {
    await saveSteps([1, 2]);
    const file = join(ckptDir(2), 'optimizer.json');
    await writeFile(file, (await readFile(file)).subarray(0, 5));
    const { loaded, warnings } = await loadQuietly(run.path);
    expect(loaded.state.step).toBe(1);
    expect(warnings[0]).toMatch(/optimizer\.json: has 5 bytes, the manifest records \d+/);
  });

  it('ignores a leftover .tmp-* directory of a crashed save', async () => {
    await saveSteps([1]);
    const leftover = join(run.path, 'checkpoints', '.tmp-crashed');
    await mkdir(leftover);
    await writeFile(join(leftover, 'weights.bin'), 'half');
    const { loaded, warnings } = await loadQuietly(run.path);
    expect(loaded.dir).toBe(ckptDir(1));
    expect(warnings).toEqual([]);
    expect((await listCheckpoints(run.path)).map((c) => c.step)).toEqual([1]);
  });

  it('uses the newest valid checkpoint when LATEST is missing', async () => {
    await saveSteps([1, 2]);
    await rm(join(run.path, 'checkpoints', 'LATEST'));
    expect((await loadQuietly(run.path)).loaded.state.step).toBe(2);
  });

  it('skips a checkpoint without a manifest (renamed before it was complete)', async () => {
    await saveSteps([1, 2]);
    await rm(join(ckptDir(2), 'manifest.json'));
    const { loaded, warnings } = await loadQuietly(run.path);
    expect(loaded.state.step).toBe(1);
    expect(warnings[0]).toContain('manifest.json: is missing');
  });

  it('fails with CKPT_NO_VALID naming the directory when every checkpoint is damaged', async () => {
    await saveSteps([1, 2]);
    await flipByte(join(ckptDir(1), 'state.json'), 0);
    await flipByte(join(ckptDir(2), 'model.json'), 0);
    await expect(loadCheckpoint(run.path, { log: () => {} })).rejects.toMatchObject({
      code: 'CKPT_NO_VALID',
      message: expect.stringContaining(join(run.path, 'checkpoints')),
    });
  });

  it('fails with CKPT_CORRUPT when the damaged checkpoint was named explicitly', async () => {
    await saveSteps([1, 2]);
    await flipByte(join(ckptDir(2), 'optimizer.bin'), 0);
    await flipByte(join(ckptDir(2), 'weights.bin'), 0);
    await expect(loadCheckpoint(ckptDir(2))).rejects.toMatchObject({ code: 'CKPT_CORRUPT' });
    expect((await loadQuietly(ckptDir(1))).loaded.state.step).toBe(1);
  });

  it('fails with CKPT_NOT_FOUND for a directory that holds no checkpoints', async () => {
    await expect(loadCheckpoint(run.path)).rejects.toMatchObject({
      code: 'CKPT_NOT_FOUND',
      message: expect.stringContaining(run.path),
    });
  });
});

describe('saveCheckpoint refuses non-finite state', () => {
  it('an optimizer tensor holding Infinity: CKPT_NON_FINITE naming the tensor, nothing written, LATEST unchanged', async () => {
    await saveSteps([1]);
    const model = denseModel(2);
    const poisoned = tf.tensor1d([0.5, Number.POSITIVE_INFINITY]);
    try {
      await expect(saveCheckpoint(run.path, { model, optimizerWeights: [{ name: 'adam/v/dense/kernel', tensor: poisoned }], state: { step: 2 } })).rejects.toMatchObject({
        code: 'CKPT_NON_FINITE',
        message: expect.stringMatching(/refusing to write checkpoint step-0000000002 .*: tensor 'adam\/v\/dense\/kernel' \(for optimizer\.bin\) holds Infinity at index 1; nothing was written/),
      });
    } finally {
      poisoned.dispose();
      model.dispose();
    }
    expect((await listCheckpoints(run.path)).map((c) => c.step)).toEqual([1]);
    expect((await readFile(join(run.path, 'checkpoints', 'LATEST'), 'utf8')).trim()).toBe('step-0000000001');
    expect((await readdir(join(run.path, 'checkpoints'))).filter((n) => n.startsWith('.tmp'))).toEqual([]);
  });

  it('a model weight holding NaN: CKPT_NON_FINITE naming the weight', async () => {
    const model = denseModel(3);
    const kernel = model.weights[0];
    kernel.write(tf.fill(kernel.shape as number[], Number.NaN));
    try {
      await expect(saveCheckpoint(run.path, { model, optimizerWeights: [], state: { step: 5 } })).rejects.toMatchObject({
        code: 'CKPT_NON_FINITE',
        message: expect.stringContaining(`tensor '${kernel.name}' (for weights.bin) holds NaN at index 0`),
      });
    } finally {
      model.dispose();
    }
    expect(await listCheckpoints(run.path)).toEqual([]);
  });
});

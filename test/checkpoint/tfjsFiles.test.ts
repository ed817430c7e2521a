import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CheckpointError } from '../../src/checkpoint/errors.js';
import { fileLoadHandler, fileSaveHandler } from '../../src/checkpoint/tfjsFiles.js';
import { bytesOf, denseModel, tempDir, useCpuBackend } from './fixtures.js';

let dir: Awaited<ReturnType<typeof tempDir>>;
beforeAll(useCpuBackend);
beforeEach(async () => {
  dir = await tempDir();
});
afterEach(async () => dir.remove());

describe('fileSaveHandler', () => {
  it('writes model.json in the standard tfjs layers format next to weights.bin', async () => {
    const model = denseModel();
    await model.save(fileSaveHandler(dir.path));
    const json = JSON.parse(await readFile(join(dir.path, 'model.json'), 'utf8'));
    expect(json.format).toBe('layers-model');
    expect(json.convertedBy).toBeNull();
    expect(json.generatedBy).toMatch(/TensorFlow\.js/);
    expect(json.modelTopology.class_name).toBe('Sequential');
    expect(json.weightsManifest).toHaveLength(1);
    expect(json.weightsManifest[0].paths).toEqual(['weights.bin']);
    expect(json.weightsManifest[0].weights.map((w: { shape: number[] }) => w.shape)).toEqual([[4, 5], [5], [5, 3], [3]]);
    const weights = await readFile(join(dir.path, 'weights.bin'));
    expect(weights.byteLength).toBe((20 + 5 + 15 + 3) * 4);
    model.dispose();
  });

  it('accepts weight data given as a list of shards', async () => {
    const shards = [new Float32Array([1, 2]).buffer, new Float32Array([3]).buffer];
    await fileSaveHandler(dir.path).save!({
      modelTopology: { class_name: 'Sequential' },
      weightSpecs: [{ name: 'w', shape: [3], dtype: 'float32' }],
      weightData: shards,
    });
    const weights = await readFile(join(dir.path, 'weights.bin'));
    expect(Array.from(new Float32Array(weights.buffer, weights.byteOffset, 3))).toEqual([1, 2, 3]);
  });
});

describe('fileLoadHandler', () => {
  it('loads a saved model back with bit-identical weights and the same predictions', async () => {
    const model = denseModel(7);
    await model.save(fileSaveHandler(dir.path));
    const loaded = await tf.loadLayersModel(fileLoadHandler(dir.path));
    const original = model.getWeights();
    const restored = loaded.getWeights();
    expect(restored.map((w) => w.shape)).toEqual(original.map((w) => w.shape));
    restored.forEach((w, i) => expect(bytesOf(w)).toEqual(bytesOf(original[i])));
    const predict = (m: tf.LayersModel) => tf.tidy(() => bytesOf(m.predict(tf.tensor2d([[0.5, -1, 2, 3]])) as tf.Tensor));
    expect(predict(loaded)).toEqual(predict(model));
    model.dispose();
    loaded.dispose();
  });

  it('reports a model.json that is not JSON as CKPT_CORRUPT naming the file', async () => {
    await writeFile(join(dir.path, 'model.json'), '{"modelTopology": ');
    await expect(fileLoadHandler(dir.path).load!()).rejects.toMatchObject({
      code: 'CKPT_CORRUPT',
      message: expect.stringContaining(join(dir.path, 'model.json')),
    });
  });

  it('refuses weight paths that point outside the model directory', async () => {
    const modelJson = { modelTopology: {}, weightsManifest: [{ paths: ['../secret.bin'], weights: [] }] };
    await writeFile(join(dir.path, 'model.json'), JSON.stringify(modelJson));
    await expect(fileLoadHandler(dir.path).load!()).rejects.toBeInstanceOf(CheckpointError);
  });
});

// Freeze specs: what each form of --freeze means for DSDC-Net, and that a frozen layer takes no
// gradients, reports no moving statistics and normalises with its moving statistics in training.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import { buildDsdcNet, DEFAULT_MODEL_SPEC } from '../../src/model/index.js';
import { freezeLayers, parseFreezeSpec, resolveFreezeSpec, trainableUnits } from '../../src/training/replica/freeze.js';
import { Replica } from '../../src/training/replica/replica.js';
import { movingStatisticVariables, trainableVariables } from '../../src/training/replica/variables.js';
import { splitExamples } from '../../src/data/examples.js';

beforeAll(async () => {
  await initBackend('wasm', () => undefined);
});

const resolve = (text: string, model: tf.LayersModel) => resolveFreezeSpec(parseFreezeSpec(text), model, text);
const CONV_LAYERS = ['stem_conv', 'stem_bn', 'sdc1', 'sdc1_bn', 'sdc2', 'sdc2_bn', 'sdc3', 'sdc3_bn'];

describe('freeze specs', () => {
  let model: tf.LayersModel;
  beforeAll(() => {
    model = buildDsdcNet(DEFAULT_MODEL_SPEC);
  });
  afterAll(() => model.dispose());

  it('groups each convolution with its batch norm: DSDC-Net has 6 trainable units', () => {
    expect(trainableUnits(model)).toEqual([['stem_conv', 'stem_bn'], ['sdc1', 'sdc1_bn'], ['sdc2', 'sdc2_bn'], ['sdc3', 'sdc3_bn'], ['sdc4', 'sdc4_bn'], ['head']]);
  });

  it('all-but-last:2 leaves sdc4, sdc4_bn and head trainable; all-but-last:1 the head alone', () => {
    expect(resolve('all-but-last:2', model)).toEqual(CONV_LAYERS);
    expect(resolve('all-but-last:1', model)).toEqual([...CONV_LAYERS, 'sdc4', 'sdc4_bn']);
  });

  it('takes a list of layer names, a glob, a /regex/, or none', () => {
    expect(resolve('sdc1, stem_conv', model)).toEqual(['stem_conv', 'sdc1']);
    expect(resolve('sdc*', model)).toEqual(['sdc1', 'sdc1_bn', 'sdc2', 'sdc2_bn', 'sdc3', 'sdc3_bn', 'sdc4', 'sdc4_bn']);
    expect(resolve('/^stem_/', model)).toEqual(['stem_conv', 'stem_bn']);
    expect(resolve('none', model)).toEqual([]);
  });

  it('refuses malformed specs with a message naming the spec and the problem', () => {
    expect(() => parseFreezeSpec('')).toThrow(/--freeze '': empty/);
    expect(() => parseFreezeSpec('all-but-last:0')).toThrow(/K in all-but-last:K must be an integer ≥ 1/);
    expect(() => parseFreezeSpec('all-but-last:two')).toThrow(/got 'two'/);
    expect(() => parseFreezeSpec('sdc1,sdc1')).toThrow(/layer 'sdc1' is listed twice/);
    expect(() => parseFreezeSpec('sdc-1')).toThrow(/'sdc-1' is not a layer name/);
    expect(() => parseFreezeSpec('/[/')).toThrow(/not a valid regular expression/);
  });

  it('refuses specs that do not fit the model: unknown or weightless layers, no match, nothing left to train', () => {
    expect(() => resolve('sdc9', model)).toThrow(/the model has no layer 'sdc9'; its layers with weights are stem_conv, stem_bn/);
    expect(() => resolve('gap', model)).toThrow(/layer 'gap' has no weights to freeze/);
    expect(() => resolve('conv*', model)).toThrow(/matches none of the layers with weights/);
    expect(() => resolve('all-but-last:6', model)).toThrow(/the model has 6 layers with weights .*K must be below 6/);
    expect(() => resolve('/./', model)).toThrow(/freezes every layer with weights; nothing would train/);
  });
});

describe('a frozen layer', () => {
  it('gets no gradient and reports no moving statistics', () => {
    const model = buildDsdcNet(DEFAULT_MODEL_SPEC);
    freezeLayers(model, resolve('all-but-last:2', model));
    expect(trainableVariables(model).map((v) => v.name)).toEqual(['sdc4/depthwise_kernel', 'sdc4/pointwise_kernel', 'sdc4_bn/gamma', 'sdc4_bn/beta', 'head/kernel', 'head/bias']);
    expect(movingStatisticVariables(model).map((v) => v.name)).toEqual(['sdc4_bn/moving_mean', 'sdc4_bn/moving_variance']);
    model.dispose();
  });

  it('batch norm: a training-mode step leaves its moving statistics as they were (inference mode)', async () => {
    const split = { images: new Uint8Array(8 * 28 * 28).map((_, i) => (i * 37) % 256), labels: new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7]), count: 8, rows: 28, cols: 28 };
    const replica = new Replica(DEFAULT_MODEL_SPEC, splitExamples(split), 0, ['stem_conv', 'stem_bn']);
    const before = await replica.readWeights();
    const contribution = await replica.compute(replica.prepare(Int32Array.from([0, 1, 2, 3, 4, 5, 6, 7]), 1));
    const after = await replica.readWeights();
    expect(after.get('stem_bn/moving_mean')).toEqual(before.get('stem_bn/moving_mean'));
    expect(after.get('stem_bn/moving_variance')).toEqual(before.get('stem_bn/moving_variance'));
    // A layer that is not frozen reports moved statistics (the replica's own copy is put back after the step).
    expect(contribution.movingStatistics.get('sdc1_bn/moving_mean')).not.toEqual(before.get('sdc1_bn/moving_mean'));
    expect([...contribution.gradients.keys()]).not.toContain('stem_conv/kernel');
    expect([...contribution.movingStatistics.keys()]).not.toContain('stem_bn/moving_mean');
    replica.dispose();
  });
});

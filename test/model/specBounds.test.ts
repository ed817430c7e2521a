// checkModelSpec: the bounds a spec from flags, a file or the wire must keep before anything is
// allocated, and the size estimate they rest on, checked against the model tfjs really builds.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildDsdcNet } from '../../src/model/dsdcNet.js';
import { checkModelSpec, DEFAULT_MODEL_SPEC, MODEL_SPEC_BOUNDS, modelSpecSize, type ModelSpec } from '../../src/model/spec.js';

const SOURCE = 'some/state.json: config.model';

describe('checkModelSpec', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('estimates the parameter count of the model tfjs builds, for the default and a pooled, narrower spec', () => {
    for (const spec of [DEFAULT_MODEL_SPEC, { ...DEFAULT_MODEL_SPEC, stemFilters: 8, blocks: [{ filters: 16, dilation: 1, poolAfter: true }, { filters: 24, dilation: 3 }] }]) {
      const model = buildDsdcNet(spec);
      const built = model.weights.reduce((n, w) => n + (w.shape as number[]).reduce((a, b) => a * b, 1), 0);
      model.dispose();
      expect(modelSpecSize(spec).parameters).toBe(built);
    }
  });

  it('accepts the default spec', () => {
    expect(() => checkModelSpec(DEFAULT_MODEL_SPEC, SOURCE)).not.toThrow();
  });

  it('refuses a width past the bound, naming the source and the field', () => {
    expect(() => checkModelSpec({ ...DEFAULT_MODEL_SPEC, stemFilters: 8192 }, SOURCE)).toThrow(`${SOURCE}: stemFilters is 8192, more than the ${MODEL_SPEC_BOUNDS.maxFilters} this build accepts`);
  });

  it('refuses a spec whose fields are each in bounds but whose activations are not', () => {
    const wide: ModelSpec = { ...DEFAULT_MODEL_SPEC, inputShape: [1024, 1024, 1], stemFilters: 64 };
    expect(() => checkModelSpec(wide, SOURCE)).toThrow(/activations per example, more than the 8000000/);
  });

  it('refuses too many blocks before looking at them', () => {
    const blocks = Array.from({ length: MODEL_SPEC_BOUNDS.maxBlocks + 1 }, () => ({ filters: 8, dilation: 1 }));
    expect(() => checkModelSpec({ ...DEFAULT_MODEL_SPEC, blocks }, SOURCE)).toThrow(`${SOURCE}: blocks has ${blocks.length} entries`);
  });

  it('refuses values of the wrong kind with what came', () => {
    expect(() => checkModelSpec({ ...DEFAULT_MODEL_SPEC, blocks: [{ filters: '64' as never, dilation: 1 }] }, SOURCE)).toThrow(`${SOURCE}: blocks[0].filters must be a positive integer, got "64"`);
    expect(() => checkModelSpec(null as never, SOURCE)).toThrow(`${SOURCE}: expected an object, got null`);
  });
});

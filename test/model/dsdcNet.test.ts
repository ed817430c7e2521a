// DSDC-Net as the reference model defines it, and the SDC layer against a direct
// implementation written here.
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fileLoadHandler, fileSaveHandler } from '../../src/checkpoint/tfjsFiles.js';
import { buildDsdcNet, DEFAULT_MODEL_SPEC, SeparableDilatedConv2D, trainableParameterCount } from '../../src/model/index.js';

/** Depthwise (dilation d, "same", stride 1) then pointwise, by direct loops, NHWC, batch 1. */
function naiveSdc(x: Float32Array, h: number, w: number, c: number, dw: Float32Array, pw: Float32Array, out: number, k: number, d: number) {
  const pad = (d * (k - 1)) / 2;
  const mid = new Float64Array(h * w * c);
  for (let y = 0; y < h; y++)
    for (let xx = 0; xx < w; xx++)
      for (let ch = 0; ch < c; ch++) {
        let sum = 0;
        for (let i = 0; i < k; i++)
          for (let j = 0; j < k; j++) {
            const sy = y + i * d - pad;
            const sx = xx + j * d - pad;
            if (sy >= 0 && sy < h && sx >= 0 && sx < w) sum += x[(sy * w + sx) * c + ch] * dw[(i * k + j) * c + ch];
          }
        mid[(y * w + xx) * c + ch] = sum;
      }
  const result = new Float64Array(h * w * out);
  for (let p = 0; p < h * w; p++)
    for (let o = 0; o < out; o++) {
      let sum = 0;
      for (let ch = 0; ch < c; ch++) sum += mid[p * c + ch] * pw[ch * out + o];
      result[p * out + o] = sum;
    }
  return result;
}

describe('DSDC-Net', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('has the reference architecture: 35,722 trainable parameters, 28×28×1 in, 10 logits out', () => {
    const model = buildDsdcNet();
    expect(trainableParameterCount(model)).toBe(35_722);
    expect(model.inputs[0].shape).toEqual([null, 28, 28, 1]);
    expect(model.outputs[0].shape).toEqual([null, 10]);
    const dilations = model.layers.filter((l) => l instanceof SeparableDilatedConv2D).map((l) => (l as SeparableDilatedConv2D).dilationRate);
    expect(dilations).toEqual(DEFAULT_MODEL_SPEC.blocks.map((b) => b.dilation));
    const lines: string[] = [];
    model.summary(undefined, undefined, (line) => lines.push(line));
    expect(lines.join('\n')).toContain('sdc4 (SeparableDilated');
    model.dispose();
  });

  for (const [size, dilation] of [[9, 1], [9, 2], [10, 3]] as const) {
    it(`SDC layer equals a direct implementation (${size}×${size}, d = ${dilation})`, () => {
      const channels = 3;
      const filters = 4;
      const layer = new SeparableDilatedConv2D({ filters, kernelSize: 3, dilationRate: dilation });
      const x = tf.randomNormal([1, size, size, channels], 0, 1, 'float32', 3);
      const y = layer.apply(x) as tf.Tensor;
      const [dw, pw] = layer.getWeights().map((t) => t.dataSync() as Float32Array);
      const expected = naiveSdc(x.dataSync() as Float32Array, size, size, channels, dw, pw, filters, 3, dilation);
      const got = y.dataSync();
      expected.forEach((v, i) => expect(got[i]).toBeCloseTo(v, 4));
      // A layer that ignored its dilation would compute the d = 1 result: make sure it differs.
      if (dilation > 1) {
        const undilated = naiveSdc(x.dataSync() as Float32Array, size, size, channels, dw, pw, filters, 3, 1);
        expect(Math.max(...undilated.map((v, i) => Math.abs(v - got[i])))).toBeGreaterThan(1e-2);
      }
    });
  }

  it('saves and loads in tfjs format with its custom layers, giving the same predictions', async () => {
    const model = buildDsdcNet();
    const dir = mkdtempSync(join(tmpdir(), 'dsdc-model-'));
    await model.save(fileSaveHandler(dir));
    const loaded = await tf.loadLayersModel(fileLoadHandler(dir));
    const x = tf.randomUniform([2, 28, 28, 1], 0, 1, 'float32', 5);
    const a = (model.predict(x) as tf.Tensor).dataSync();
    const b = (loaded.predict(x) as tf.Tensor).dataSync();
    a.forEach((v, i) => expect(b[i]).toBeCloseTo(v, 5));
    expect(loaded.layers.map((l) => l.getClassName())).toEqual(model.layers.map((l) => l.getClassName()));
  });

  it('a frozen batch-norm layer trains in inference mode and keeps its moving statistics', () => {
    const model = buildDsdcNet();
    const bn = model.getLayer('stem_bn');
    bn.trainable = false;
    const before = bn.getWeights().map((t) => t.dataSync().slice());
    tf.tidy(() => {
      model.apply(tf.randomUniform([4, 28, 28, 1]), { training: true });
    });
    const after = bn.getWeights().map((t) => t.dataSync());
    before.forEach((values, i) => expect(Array.from(after[i])).toEqual(Array.from(values)));
    model.dispose();
  });
});

// trainingStepFlops against a naive count: every multiply-add of every layer enumerated one by
// one over its output positions, channels and taps, for small specs with pools and odd sizes.
import { describe, expect, it } from 'vitest';
import { trainingStepFlops } from '../../src/model/flops.js';
import { DEFAULT_MODEL_SPEC, type ModelSpec, modelSpecWith } from '../../src/model/spec.js';

/** Multiply-adds of the forward pass, one `count++` per product; and those whose input gradient is computed. */
function naiveMultiplyAdds(spec: ModelSpec, batch: number): { forward: number; withInputGradient: number } {
  let [h, w, c] = spec.inputShape;
  const k = spec.kernelSize;
  let forward = 0, withInputGradient = 0;
  const conv = (inC: number, outC: number, depthwise: boolean) => {
    let count = 0;
    for (let b = 0; b < batch; b++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++)
          for (let o = 0; o < outC; o++)
            for (let i = 0; i < (depthwise ? 1 : inC); i++) for (let t = 0; t < k * k; t++) count++;
    return count;
  };
  const pointwise = (inC: number, outC: number) => {
    let count = 0;
    for (let r = 0; r < batch * h * w; r++) for (let o = 0; o < outC; o++) for (let i = 0; i < inC; i++) count++;
    return count;
  };
  forward += conv(c, spec.stemFilters, false);
  c = spec.stemFilters;
  for (const block of spec.blocks) {
    const layer = conv(c, c, true) + pointwise(c, block.filters);
    forward += layer;
    withInputGradient += layer;
    c = block.filters;
    if (block.poolAfter) [h, w] = [Math.floor(h / 2), Math.floor(w / 2)];
  }
  let head = 0;
  for (let b = 0; b < batch; b++) for (let o = 0; o < spec.numClasses; o++) for (let i = 0; i < c; i++) head++;
  return { forward: forward + head, withInputGradient: withInputGradient + head };
}

describe('trainingStepFlops', () => {
  const small = modelSpecWith({
    inputShape: [9, 7, 1],
    stemFilters: 4,
    blocks: [
      { filters: 8, dilation: 1, poolAfter: true },
      { filters: 6, dilation: 2 },
      { filters: 12, dilation: 1, poolAfter: true },
    ],
  });

  it.each([
    ['a small spec with pools and odd sizes', small, 3],
    ['the default DSDC-Net', DEFAULT_MODEL_SPEC, 2],
  ] as const)('equals the naive count of multiply-adds for %s', (_, spec, batch) => {
    const naive = naiveMultiplyAdds(spec, batch);
    const flops = trainingStepFlops(spec, batch);
    expect(flops.forward).toBe(2 * naive.forward);
    // Backward: every weight gradient, plus the input gradient of all but the stem.
    expect(flops.backward).toBe(2 * naive.forward + 2 * naive.withInputGradient);
    expect(flops.total).toBe(flops.forward + flops.backward);
  });

  it('is linear in the batch, and the default step of 64 images is about 4.15 GFLOP, 89% of it pointwise', () => {
    const one = trainingStepFlops(DEFAULT_MODEL_SPEC, 1);
    const flops = trainingStepFlops(DEFAULT_MODEL_SPEC, 64);
    expect(flops.total).toBe(64 * one.total);
    expect(flops.total / 1e9).toBeCloseTo(4.15, 2);
    const pointwise = flops.layers.filter((l) => l.name.endsWith('pointwise')).reduce((s, l) => s + l.forward + l.inputGradient + l.weightGradient, 0);
    expect(pointwise / flops.total).toBeCloseTo(0.89, 2);
  });
});

// Floating-point operations of one training step of DSDC-Net (forward and backward pass of
// computeGradients), from the model spec's shapes alone. Counts the multiply-adds of the
// convolutions and the dense head, 2 FLOP each; batch norm, ReLU, pooling and the loss are a few
// operations per element (memory-bound, under 1% of the count) and are left out, as is usual.
// Backward: each layer's weight gradient costs what its forward pass does, and so does its input
// gradient, except the stem's (the images need none).
import type { ModelSpec } from './spec.js';

export interface StepFlops {
  /** Per part of the network: forward, input gradient, weight gradient. */
  layers: Array<{ name: string; forward: number; inputGradient: number; weightGradient: number }>;
  forward: number;
  backward: number;
  total: number;
}

/** One step on `batch` images; valid for any spec validateModelSpec accepts ("same" padding, stride 1, 2×2 pools). */
export function trainingStepFlops(spec: ModelSpec, batch: number): StepFlops {
  let [height, width] = spec.inputShape;
  const k2 = spec.kernelSize * spec.kernelSize;
  const layers: StepFlops['layers'] = [];
  const add = (name: string, multiplyAdds: number, needsInputGradient: boolean) => {
    const forward = 2 * batch * multiplyAdds;
    layers.push({ name, forward, inputGradient: needsInputGradient ? forward : 0, weightGradient: forward });
  };
  add('stem_conv', height * width * k2 * spec.inputShape[2] * spec.stemFilters, false);
  let channels = spec.stemFilters;
  spec.blocks.forEach((block, i) => {
    add(`sdc${i + 1} depthwise`, height * width * k2 * channels, true);
    add(`sdc${i + 1} pointwise`, height * width * channels * block.filters, true);
    channels = block.filters;
    if (block.poolAfter) {
      height = Math.floor(height / 2);
      width = Math.floor(width / 2);
    }
  });
  add('head', channels * spec.numClasses, true);
  const forward = layers.reduce((sum, l) => sum + l.forward, 0);
  const backward = layers.reduce((sum, l) => sum + l.inputGradient + l.weightGradient, 0);
  return { layers, forward, backward, total: forward + backward };
}

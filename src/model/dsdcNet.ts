// Builds DSDC-Net from a ModelSpec as a tfjs LayersModel. Layer names are stable and meaningful
// (stem_conv, stem_bn, sdc1 … sdcN, sdcN_bn, pool, gap, head): checkpoints, the wire protocol
// and fine-tune freeze specs all refer to variables by these names.
import * as tf from '@tensorflow/tfjs';
import { BatchNormReLU } from './batchNormRelu.js';
import { SeparableDilatedConv2D } from './separableDilatedConv2d.js';
import { type ModelSpec, DEFAULT_MODEL_SPEC, validateModelSpec } from './spec.js';
// Global average pooling's backward without a JavaScript-filled tensor of ones.
import '../ops/meanGradient.js';

export function buildDsdcNet(spec: ModelSpec = DEFAULT_MODEL_SPEC, seedName = 'dsdc'): tf.LayersModel {
  validateModelSpec(spec);
  const model = tf.sequential({ name: seedName });
  model.add(
    tf.layers.conv2d({
      name: 'stem_conv',
      inputShape: spec.inputShape,
      filters: spec.stemFilters,
      kernelSize: spec.kernelSize,
      padding: 'same',
      useBias: false,
    }),
  );
  model.add(normalisation(spec, 'stem_bn'));
  spec.blocks.forEach((block, index) => {
    const name = `sdc${index + 1}`;
    model.add(
      new SeparableDilatedConv2D({ name, filters: block.filters, kernelSize: spec.kernelSize, dilationRate: block.dilation }),
    );
    model.add(normalisation(spec, `${name}_bn`));
    if (block.poolAfter) model.add(tf.layers.maxPooling2d({ name: `${name}_pool`, poolSize: 2, strides: 2 }));
  });
  model.add(tf.layers.globalAveragePooling2d({ name: 'gap' }));
  model.add(tf.layers.dense({ name: 'head', units: spec.numClasses }));
  return model;
}

function normalisation(spec: ModelSpec, name: string): tf.layers.Layer {
  return spec.batchNorm
    ? new BatchNormReLU({ name, momentum: spec.bnMomentum, epsilon: spec.bnEpsilon })
    : tf.layers.reLU({ name: `${name.replace(/_bn$/, '')}_relu` });
}

export function trainableParameterCount(model: tf.LayersModel): number {
  return model.trainableWeights.reduce((sum, weight) => sum + (weight.shape as number[]).reduce((a, b) => a * b, 1), 0);
}

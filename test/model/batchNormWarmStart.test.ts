import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { BatchNormReLU } from '../../src/model/batchNormRelu.js';

function layerAfterOneUpdate(statisticsUpdates?: number) {
  const layer = new BatchNormReLU({ name: `bn_${statisticsUpdates ?? 'plain'}`, momentum: 0.99, epsilon: 1e-3 });
  if (statisticsUpdates !== undefined) layer.statisticsUpdates = statisticsUpdates;
  const x = tf.add(tf.mul(tf.randomNormal([4, 5, 5, 3], 0, 1, 'float32', 3), 0.1), 2) as tf.Tensor4D;
  tf.tidy(() => {
    layer.apply(x, { training: true });
  });
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  const [, , movingMean, movingVariance] = layer.getWeights().map((w) => Array.from(w.dataSync()));
  return { movingMean, movingVariance, batchMean: Array.from(mean.dataSync()), batchVariance: Array.from(variance.dataSync()) };
}

describe('batch norm moving statistics', () => {
  it('the first update of a run takes the batch statistics (no trace of the initial 0 and 1)', () => {
    const r = layerAfterOneUpdate(0);
    r.movingMean.forEach((v, i) => expect(v).toBeCloseTo(r.batchMean[i], 5));
    r.movingVariance.forEach((v, i) => expect(v).toBeCloseTo(r.batchVariance[i], 5));
  });

  it('the update at step t < 1/(1 − momentum) weighs the batch by 1/(t + 1)', () => {
    const r = layerAfterOneUpdate(3);
    r.movingMean.forEach((v, i) => expect(v).toBeCloseTo(0.75 * 0 + 0.25 * r.batchMean[i], 5));
    r.movingVariance.forEach((v, i) => expect(v).toBeCloseTo(0.75 * 1 + 0.25 * r.batchVariance[i], 5));
  });

  it('later, and when no step is set, it is the plain exponential average (Keras)', () => {
    for (const r of [layerAfterOneUpdate(), layerAfterOneUpdate(500)]) {
      r.movingMean.forEach((v, i) => expect(v).toBeCloseTo(0.01 * r.batchMean[i], 5));
      r.movingVariance.forEach((v, i) => expect(v).toBeCloseTo(0.99 + 0.01 * r.batchVariance[i], 5));
    }
  });
});

// Batch normalisation (per channel, NHWC) fused with ReLU, as one layer. Training mode uses the
// batch statistics and updates the moving ones (Keras momentum semantics); inference mode, and
// a frozen layer (trainable = false, as Keras does since 2.1.3), use the moving statistics.
import * as tf from '@tensorflow/tfjs';
import { movingAverageDecay } from '../numerics/movingStatistics.js';
import { batchNormReluInference, batchNormReluTraining } from '../ops/batchNormRelu.js';

export interface BatchNormReLUArgs {
  momentum: number;
  epsilon: number;
  name?: string;
  trainable?: boolean;
}

export class BatchNormReLU extends tf.layers.Layer {
  static readonly className = 'BatchNormReLU';
  readonly momentum: number;
  readonly epsilon: number;
  /**
   * Moving-statistics updates made so far in this run, set by the training loop before each
   * step. While it is below 1/(1 − momentum) the update is a cumulative average of the batches
   * seen so far, so short runs do not evaluate with statistics still dominated by the initial
   * mean 0 and variance 1 (with momentum 0.99 those fade only after some 500 steps). Unset, the
   * plain exponential average applies, as in Keras.
   */
  statisticsUpdates = Number.POSITIVE_INFINITY;
  private gamma!: tf.LayerVariable;
  private beta!: tf.LayerVariable;
  private movingMean!: tf.LayerVariable;
  private movingVariance!: tf.LayerVariable;

  constructor(args: BatchNormReLUArgs) {
    super(args);
    this.momentum = args.momentum;
    this.epsilon = args.epsilon;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = inputShape as tf.Shape;
    const channels = shape[shape.length - 1] as number;
    this.gamma = this.addWeight('gamma', [channels], 'float32', tf.initializers.ones());
    this.beta = this.addWeight('beta', [channels], 'float32', tf.initializers.zeros());
    this.movingMean = this.addWeight('moving_mean', [channels], 'float32', tf.initializers.zeros(), undefined, false);
    this.movingVariance = this.addWeight('moving_variance', [channels], 'float32', tf.initializers.ones(), undefined, false);
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return inputShape as tf.Shape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: tf.serialization.ConfigDict): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
    const gamma = this.gamma.read() as tf.Tensor1D;
    const beta = this.beta.read() as tf.Tensor1D;
    if (kwargs['training'] !== true || !this.trainable) {
      return batchNormReluInference(
        x,
        gamma,
        beta,
        this.movingMean.read() as tf.Tensor1D,
        this.movingVariance.read() as tf.Tensor1D,
        this.epsilon,
      );
    }
    const { output, mean, variance } = batchNormReluTraining(x, gamma, beta, this.epsilon);
    tf.tidy(() => {
      const decay = movingAverageDecay(this.momentum, this.statisticsUpdates);
      const updated = (moving: tf.LayerVariable, batch: tf.Tensor1D) =>
        tf.sub(moving.read(), tf.mul(tf.sub(moving.read(), batch), decay));
      this.movingMean.write(updated(this.movingMean, mean));
      this.movingVariance.write(updated(this.movingVariance, variance));
    });
    mean.dispose();
    variance.dispose();
    return output;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), momentum: this.momentum, epsilon: this.epsilon };
  }
}

tf.serialization.registerClass(BatchNormReLU);

// The SDC layer: depthwise k×k convolution with dilation d (no bias) followed by a pointwise
// 1×1 convolution C → C' (no bias). Batch norm and ReLU follow as their own layer.
// Registered for serialization so that summary(), save/load and `trainable` work.
import * as tf from '@tensorflow/tfjs';
import { depthwiseConv2dDilated } from '../ops/depthwiseDilated.js';
import { pointwiseConv } from '../ops/pointwise.js';

export interface SeparableDilatedConv2DArgs {
  filters: number;
  kernelSize: number;
  dilationRate: number;
  name?: string;
  trainable?: boolean;
}

export class SeparableDilatedConv2D extends tf.layers.Layer {
  static readonly className = 'SeparableDilatedConv2D';
  readonly filters: number;
  readonly kernelSize: number;
  readonly dilationRate: number;
  private depthwiseKernel!: tf.LayerVariable;
  private pointwiseKernel!: tf.LayerVariable;

  constructor(args: SeparableDilatedConv2DArgs) {
    super(args);
    this.filters = args.filters;
    this.kernelSize = args.kernelSize;
    this.dilationRate = args.dilationRate;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = inputShape as tf.Shape;
    const channels = shape[shape.length - 1] as number;
    const k = this.kernelSize;
    // Glorot-uniform fan-in/fan-out as Keras computes them for each kernel.
    this.depthwiseKernel = this.addWeight(
      'depthwise_kernel',
      [k, k, channels, 1],
      'float32',
      tf.initializers.glorotUniform({}),
    );
    this.pointwiseKernel = this.addWeight(
      'pointwise_kernel',
      [1, 1, channels, this.filters],
      'float32',
      tf.initializers.glorotUniform({}),
    );
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = inputShape as tf.Shape;
    return [shape[0], shape[1], shape[2], this.filters];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const depthwise = depthwiseConv2dDilated(x, this.depthwiseKernel.read() as tf.Tensor4D, this.dilationRate);
      return pointwiseConv(depthwise, this.pointwiseKernel.read() as tf.Tensor4D);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      filters: this.filters,
      kernelSize: this.kernelSize,
      dilationRate: this.dilationRate,
    };
  }
}

tf.serialization.registerClass(SeparableDilatedConv2D);

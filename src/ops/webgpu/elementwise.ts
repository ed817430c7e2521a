// One thread per element of an NHWC tensor, with the channel c = i mod channels at hand: the
// output passes of the fused batch norm + ReLU.
import { PerElementProgram } from './program.js';

const THREADS = 256;

export class ChannelwiseProgram extends PerElementProgram {
  constructor(
    variableNames: string[],
    outputShape: number[],
    shaderKey: string,
    /** WGSL body that sets `value` from element i of channel c. */
    private readonly body: string,
    extraUniforms = '',
  ) {
    super(variableNames, outputShape, shaderKey, `channels : i32, ${extraUniforms}`, THREADS);
  }
  getUserCode(): string {
    return `
      fn main(i : i32) {
        if (i >= uniforms.size) { return; }
        let c = i % uniforms.channels;
        var value = 0.0;
        ${this.body}
        setOutputAtIndex(i, value);
      }`;
  }
}

// One thread per element of an NHWC tensor, with the channel c = i mod channels at hand: the
// output passes of the fused batch norm + ReLU.
import { ceilDiv, type WgslProgram } from './program.js';

const THREADS = 256;

export class ChannelwiseProgram implements WgslProgram {
  readonly workgroupSize: [number, number, number] = [THREADS, 1, 1];
  readonly dispatchLayout = { x: [0] };
  readonly dispatch: [number, number, number];
  readonly size = true;
  readonly uniforms: string;
  constructor(
    readonly variableNames: string[],
    readonly outputShape: number[],
    readonly shaderKey: string,
    /** WGSL body that sets `value` from element i of channel c. */
    private readonly body: string,
    extraUniforms = '',
  ) {
    this.dispatch = [ceilDiv(outputShape.reduce((a, b) => a * b, 1), THREADS), 1, 1];
    this.uniforms = `channels : i32, ${extraUniforms}`;
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

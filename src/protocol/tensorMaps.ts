// Converts between named Float32Arrays (how training code holds weights and gradients) and wire
// tensors, in both directions, without copying where the memory allows.
import { DEFAULT_WIRE_DTYPE, type WireDtype } from './constants.js';
import { decodeTensorValues, encodeTensor, type WireTensor } from './tensors.js';

/** `names` (default: all of `values`) as wire tensors of `dtype`, one for all or by name (default float32). */
export function tensorsFromMap(
  values: ReadonlyMap<string, Float32Array>,
  shapes: ReadonlyMap<string, readonly number[]>,
  names: Iterable<string> = values.keys(),
  dtype: WireDtype | ((name: string) => WireDtype) = DEFAULT_WIRE_DTYPE,
): WireTensor[] {
  const dtypeOf = typeof dtype === 'function' ? dtype : () => dtype;
  const tensors: WireTensor[] = [];
  for (const name of names) {
    const v = values.get(name);
    const shape = shapes.get(name);
    if (!v || !shape) throw new RangeError(`tensorsFromMap: no values or shape for '${name}'`);
    tensors.push(encodeTensor(name, shape, v, dtypeOf(name)));
  }
  return tensors;
}

/** Values as views into the received frame where aligned: copy what must outlive the message. */
export function mapFromTensors(tensors: readonly WireTensor[]): Map<string, Float32Array> {
  return new Map(tensors.map((t) => [t.name, decodeTensorValues(t)]));
}

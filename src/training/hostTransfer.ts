// Moving many tensors between host and device as ONE buffer each way: a read of many small
// tensors costs one round trip (a GPU fence and map) per tensor on the webgpu backend, and a
// synchronous read is impossible there at all. Down: the tensors are flattened and concatenated
// on the device, then read once. Up: the host arrays are packed into one upload, then split on
// the device.
import * as tf from '@tensorflow/tfjs';

/** Reads every tensor of `tensors` with one asynchronous read-back; the arrays view one buffer. */
export async function readAsOne(tensors: readonly tf.Tensor[]): Promise<Float32Array[]> {
  if (tensors.length === 0) return [];
  const flat = tf.tidy(() => tf.concat(tensors.map((t) => tf.reshape(tf.cast(t, 'float32'), [-1]))));
  try {
    const values = (await flat.data()) as Float32Array;
    const out: Float32Array[] = [];
    let offset = 0;
    for (const t of tensors) {
      out.push(values.subarray(offset, offset + t.size));
      offset += t.size;
    }
    return out;
  } finally {
    flat.dispose();
  }
}

/** Uploads `arrays` as one tensor and returns them split on the device, shaped by `shapes`; the caller disposes them. */
export function uploadAsOne(arrays: readonly Float32Array[], shapes: readonly (readonly number[])[]): tf.Tensor[] {
  if (arrays.length === 0) return [];
  const total = arrays.reduce((s, a) => s + a.length, 0);
  const packed = new Float32Array(total);
  let offset = 0;
  for (const a of arrays) {
    packed.set(a, offset);
    offset += a.length;
  }
  return tf.tidy(() => {
    const one = tf.tensor1d(packed);
    const parts = tf.split(one, arrays.map((a) => a.length));
    return parts.map((part, i) => tf.reshape(part, shapes[i] as number[]));
  });
}

// Example-index lists on the wire: an Int32Array travels as one msgpack bin of little-endian
// int32 bytes (4 bytes per index) instead of a msgpack array of numbers (1-5 bytes each, slow to walk).

import { HOST_IS_LITTLE_ENDIAN } from './tensors.js';

export const BYTES_PER_INDEX = 4;

/** Little-endian bytes of `indices`: a view on little-endian hosts, a copy elsewhere. */
export function indexListBytes(indices: Int32Array): Uint8Array {
  if (HOST_IS_LITTLE_ENDIAN) return new Uint8Array(indices.buffer, indices.byteOffset, indices.byteLength);
  const bytes = new Uint8Array(indices.byteLength);
  const view = new DataView(bytes.buffer);
  indices.forEach((index, i) => view.setInt32(i * BYTES_PER_INDEX, index, true));
  return bytes;
}

/**
 * Reads little-endian int32s into a fresh Int32Array (a copy, so it neither depends on the frame's
 * alignment nor keeps the frame alive). Assumes `bytes.byteLength` is a multiple of 4.
 */
export function indexListFromBytes(bytes: Uint8Array): Int32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const indices = new Int32Array(bytes.byteLength / BYTES_PER_INDEX);
  for (let i = 0; i < indices.length; i++) indices[i] = view.getInt32(i * BYTES_PER_INDEX, true);
  return indices;
}

// Binary encoding of a list of named tensors (the optimizer's slots): one blob of tensor bytes
// plus an index giving each tensor's name, shape, dtype and byte range in the blob. Each tensor
// is encoded on its own with tfjs's weight encoding, so every dtype tfjs can save round-trips
// and duplicate names keep their order.

import * as tf from '@tensorflow/tfjs';
import { toArrayBuffer } from '../files/durableFs.js';
import { CheckpointError } from './errors.js';

export const TENSOR_INDEX_FORMAT_VERSION = 1;

export interface TensorIndexEntry {
  name: string;
  shape: number[];
  dtype: tf.DataType;
  /** Byte offset of the tensor's data in the blob. */
  offset: number;
  byteLength: number;
}

export interface TensorIndex {
  formatVersion: typeof TENSOR_INDEX_FORMAT_VERSION;
  tensors: TensorIndexEntry[];
}

/** tfjs does not export its NamedTensor type; this is the one optimizers' getWeights returns. */
export type NamedTensor = Awaited<ReturnType<tf.Optimizer['getWeights']>>[number];

const BYTES_PER_ELEMENT: Partial<Record<tf.DataType, number>> = { float32: 4, int32: 4, bool: 1, complex64: 8 };

/** Encodes the tensors (reading their values; nothing is disposed) into an index and a blob. */
export async function encodeNamedTensors(tensors: NamedTensor[]): Promise<{ index: TensorIndex; data: Uint8Array }> {
  const parts: Uint8Array[] = [];
  const entries: TensorIndexEntry[] = [];
  let offset = 0;
  for (const { name, tensor } of tensors) {
    const { data } = await tf.io.encodeWeights([{ name, tensor }]);
    parts.push(new Uint8Array(data));
    entries.push({ name, shape: tensor.shape.slice(), dtype: tensor.dtype, offset, byteLength: data.byteLength });
    offset += data.byteLength;
  }
  const blob = new Uint8Array(offset);
  parts.forEach((part, i) => blob.set(part, entries[i].offset));
  return { index: { formatVersion: TENSOR_INDEX_FORMAT_VERSION, tensors: entries }, data: blob };
}

function isEntry(e: unknown): e is TensorIndexEntry {
  const x = e as TensorIndexEntry;
  return (
    x != null &&
    typeof x.name === 'string' &&
    Array.isArray(x.shape) &&
    x.shape.every((d) => Number.isInteger(d) && d >= 0) &&
    typeof x.dtype === 'string' &&
    Number.isInteger(x.offset) &&
    Number.isInteger(x.byteLength) &&
    x.offset >= 0 &&
    x.byteLength >= 0
  );
}

/**
 * Checks `index` against `data` and creates the tensors (the caller owns and disposes them).
 * `source` names the index and blob files in error messages.
 */
export function decodeNamedTensors(index: unknown, data: Uint8Array, source: string): NamedTensor[] {
  const corrupt = (what: string) => new CheckpointError('CKPT_CORRUPT', `${source}: ${what}`);
  const idx = index as TensorIndex | null;
  if (idx == null || idx.formatVersion !== TENSOR_INDEX_FORMAT_VERSION || !Array.isArray(idx.tensors)) {
    throw corrupt(`expected {formatVersion: ${TENSOR_INDEX_FORMAT_VERSION}, tensors: [...]}`);
  }
  // Validate everything before creating any tensor, so a failure leaks nothing.
  idx.tensors.forEach((entry, i) => {
    if (!isEntry(entry)) throw corrupt(`entry ${i} is not {name, shape, dtype, offset, byteLength}`);
    if (entry.offset + entry.byteLength > data.byteLength) {
      throw corrupt(
        `tensor '${entry.name}' spans bytes ${entry.offset}..${entry.offset + entry.byteLength} ` +
          `but the data has only ${data.byteLength} bytes`,
      );
    }
    const elementBytes = BYTES_PER_ELEMENT[entry.dtype];
    if (entry.dtype !== 'string' && elementBytes === undefined) throw corrupt(`tensor '${entry.name}' has unknown dtype '${entry.dtype}'`);
    const expected = elementBytes === undefined ? undefined : elementBytes * entry.shape.reduce((a, b) => a * b, 1);
    if (expected !== undefined && expected !== entry.byteLength) {
      throw corrupt(`tensor '${entry.name}' of shape [${entry.shape}] ${entry.dtype} needs ${expected} bytes, index says ${entry.byteLength}`);
    }
  });
  return idx.tensors.map(({ name, shape, dtype, offset, byteLength }) => {
    const bytes = toArrayBuffer(data.subarray(offset, offset + byteLength));
    const decoded = tf.io.decodeWeights(bytes, [{ name, shape, dtype: dtype as tf.io.WeightsManifestEntry['dtype'] }]);
    return { name, tensor: decoded[name] };
  });
}

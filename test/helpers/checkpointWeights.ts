// Reads a checkpoint's weights straight from model.json + weights.bin (tfjs layers format),
// independently of the code under test.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export function readCheckpointWeights(checkpointDir: string): Map<string, Float32Array> {
  const modelJson = JSON.parse(readFileSync(join(checkpointDir, 'model.json'), 'utf8'));
  const group = modelJson.weightsManifest[0];
  const bytes = readFileSync(join(checkpointDir, group.paths[0]));
  const weights = new Map<string, Float32Array>();
  let offset = 0;
  for (const spec of group.weights as { name: string; shape: number[]; dtype: string }[]) {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    weights.set(spec.name, new Float32Array(bytes.buffer.slice(bytes.byteOffset + offset, bytes.byteOffset + offset + 4 * size)));
    offset += 4 * size;
  }
  return weights;
}

/** max |a − b| / max |b| over a tensor: 0 for identical tensors, scale-free otherwise. */
export function maxRelativeDifference(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return scale === 0 ? diff : diff / scale;
}

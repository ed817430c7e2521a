// Deterministic initial weights from a seed, so that a standalone run and a distributed run of
// the same seed start from the same point (tfjs's own initialisers are not seedable per run).
// Kernels: Glorot-uniform with Keras's fan-in/fan-out; biases and β zero; γ one; moving mean
// zero; moving variance one.
import { createRng } from '../../data/rng.js';

export function seededInitialWeights(shapes: ReadonlyMap<string, readonly number[]>, seed: number): Map<string, Float32Array> {
  const rng = createRng(seed);
  const weights = new Map<string, Float32Array>();
  for (const [name, shape] of shapes) {
    const size = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(size);
    if (/(gamma|moving_variance)$/.test(name)) values.fill(1);
    else if (/kernel$/.test(name)) {
      const [fanIn, fanOut] = fans(shape);
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      for (let i = 0; i < size; i++) values[i] = (2 * rng.next() - 1) * limit;
    }
    weights.set(name, values);
  }
  return weights;
}

function fans(shape: readonly number[]): [number, number] {
  if (shape.length === 2) return [shape[0], shape[1]];
  const receptiveField = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return [shape[shape.length - 2] * receptiveField, shape[shape.length - 1] * receptiveField];
}

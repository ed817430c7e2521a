import { describe, expect, it } from 'vitest';
import { mapFromTensors, tensorsFromMap } from '../../src/protocol/index.js';

describe('tensorsFromMap / mapFromTensors', () => {
  const values = new Map([
    ['a', Float32Array.of(1, 2, 3, 4)],
    ['b', Float32Array.of(5)],
  ]);
  const shapes = new Map([
    ['a', [2, 2]],
    ['b', [1]],
  ]);

  it('round-trips named values, in the order of the names given', () => {
    const tensors = tensorsFromMap(values, shapes, ['b', 'a']);
    expect(tensors.map((t) => [t.name, t.shape])).toEqual([['b', [1]], ['a', [2, 2]]]);
    expect(mapFromTensors(tensors)).toEqual(values);
  });

  it('throws RangeError for a name without values or shape', () => {
    expect(() => tensorsFromMap(values, shapes, ['c'])).toThrow(/'c'/);
  });
});

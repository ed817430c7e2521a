// uploadArrays / readAsOne on the CPU backends: the right values in the right shapes, and tensors
// that own their data (a later change to the host arrays must not reach the variables).
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { readAsOne, uploadArrays } from '../../src/training/replica/hostTransfer.js';
import { TEST_BACKENDS, seeded, useBackend } from '../ops/helpers.js';

describe.each(TEST_BACKENDS)('host transfer on %s', (backend) => {
  afterAll(() => useBackend('cpu'));

  it('uploads each array in its shape, as a copy, and reads them back as one', async () => {
    await useBackend(backend);
    const arrays = [seeded(1, 6), seeded(2, 1), seeded(3, 24)];
    const shapes = [[2, 3], [1], [2, 3, 4]];
    const expected = arrays.map((a) => Array.from(a));
    const tensors = uploadArrays(arrays, shapes);
    arrays.forEach((a) => a.fill(99));
    expect(tensors.map((t) => t.shape)).toEqual(shapes);
    const back = await readAsOne(tensors);
    expect(back.map((a) => Array.from(a))).toEqual(expected);
    const variable = tf.variable(tf.zeros([2, 3]));
    variable.assign(tensors[0]);
    tf.dispose(tensors);
    expect(Array.from(variable.dataSync())).toEqual(expected[0]);
    variable.dispose();
  });
});

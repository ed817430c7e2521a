import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import { splitExamples } from '../../src/data/examples.js';
import { DEFAULT_MODEL_SPEC } from '../../src/model/spec.js';
import { Replica } from '../../src/training/replica/replica.js';

const split = { images: new Uint8Array(8 * 28 * 28).map((_, i) => (i * 37) % 256), labels: new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7]), count: 8, rows: 28, cols: 28 };
const batch = Int32Array.from([0, 1, 2, 3, 4, 5, 6, 7]);

describe('Replica.compute and batch-norm statistics', () => {
  beforeAll(async () => {
    await initBackend('wasm', () => {});
  });

  it("reports the moved statistics but leaves its own as they were, so a repeated step gives the same report", async () => {
    const replica = new Replica(DEFAULT_MODEL_SPEC, splitExamples(split), 0);
    try {
      const before = (await replica.readWeights()).get('stem_bn/moving_variance')!;
      const first = await replica.compute(replica.prepare(batch, 1), 5);
      expect(first.movingStatistics.get('stem_bn/moving_variance')).not.toEqual(before);
      expect((await replica.readWeights()).get('stem_bn/moving_variance')).toEqual(before);
      const again = await replica.compute(replica.prepare(batch, 1), 5);
      expect(again.movingStatistics.get('stem_bn/moving_variance')).toEqual(first.movingStatistics.get('stem_bn/moving_variance'));
    } finally {
      replica.dispose();
    }
  });
});

// The report's "most confident mistakes", checked against a naive reference.
import { describe, expect, it } from 'vitest';
import { worstMisclassified } from '../../src/report/misclassified.js';

function naiveWorst(labels: number[], probabilities: number[][], count: number) {
  return probabilities
    .map((row, index) => ({ index, predicted: row.indexOf(Math.max(...row)), confidence: Math.max(...row) }))
    .filter((x) => x.predicted !== labels[x.index])
    .sort((a, b) => b.confidence - a.confidence || a.index - b.index)
    .slice(0, count);
}

describe('worstMisclassified', () => {
  it('lists the wrong predictions, most confident first, as the reference does', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const k = 4;
    const rows = Array.from({ length: 200 }, () => {
      const raw = Array.from({ length: k }, random);
      const sum = raw.reduce((a, b) => a + b, 0);
      return raw.map((v) => Math.fround(v / sum));
    });
    const labels = rows.map(() => Math.floor(random() * k));
    const got = worstMisclassified(labels, Float32Array.from(rows.flat()), k, 10);
    expect(got.map(({ index, predicted, confidence }) => ({ index, predicted, confidence }))).toEqual(naiveWorst(labels, rows, 10));
    for (const m of got) expect(m.trueClassProbability).toBe(rows[m.index][labels[m.index]]);
  });

  it('returns nothing when every prediction is right', () => {
    expect(worstMisclassified([0, 1], Float32Array.from([0.9, 0.1, 0.2, 0.8]), 2, 5)).toEqual([]);
  });
});

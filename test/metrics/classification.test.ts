import { describe, expect, it } from 'vitest';
import {
  CROSS_ENTROPY_EPSILON,
  meanCrossEntropy,
  accuracy,
  argmaxRows,
  confusionMatrix,
  evaluationReport,
  macroAverages,
  macroRocAuc,
  perClassMetrics,
  rocAucOneVsRest,
} from '../../src/metrics/classification.js';
import { MetricsError } from '../../src/metrics/errors.js';

/** Deterministic PRNG (mulberry32) so random cases are reproducible. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Naive AUC: the fraction of (positive, negative) pairs ranked correctly, ties count 1/2. */
function naiveAuc(labels: number[], probs: Float32Array, k: number, c: number): number {
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== c) continue;
    for (let j = 0; j < labels.length; j++) {
      if (labels[j] === c) continue;
      const sp = probs[i * k + c];
      const sn = probs[j * k + c];
      wins += sp > sn ? 1 : sp === sn ? 0.5 : 0;
      pairs++;
    }
  }
  return pairs === 0 ? NaN : wins / pairs;
}

function naiveConfusion(labels: number[], preds: number[], k: number): number[][] {
  return Array.from({ length: k }, (_, t) =>
    Array.from({ length: k }, (_, p) => labels.filter((l, i) => l === t && preds[i] === p).length),
  );
}

function randomCase(seed: number, n: number, k: number, levels?: number) {
  const next = rng(seed);
  const labels = Array.from({ length: n }, () => Math.floor(next() * k));
  const probs = new Float32Array(n * k);
  for (let i = 0; i < probs.length; i++) {
    // Quantising to a few levels produces many ties.
    probs[i] = levels ? Math.floor(next() * levels) / levels : next();
  }
  return { labels, probs };
}

describe('confusionMatrix', () => {
  it('puts true classes on rows and predicted classes on columns', () => {
    expect(confusionMatrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2], 3)).toEqual([
      [1, 1, 0],
      [0, 1, 0],
      [1, 0, 2],
    ]);
  });

  it('matches a naive count on random data', () => {
    const next = rng(7);
    const labels = Array.from({ length: 500 }, () => Math.floor(next() * 5));
    const preds = Array.from({ length: 500 }, () => Math.floor(next() * 5));
    expect(confusionMatrix(Int32Array.from(labels), Uint8Array.from(preds), 5)).toEqual(
      naiveConfusion(labels, preds, 5),
    );
  });

  it('rejects a label outside [0, numClasses) with a coded error', () => {
    expect(() => confusionMatrix([0, 3], [0, 1], 3)).toThrowError(/labels\[1\] = 3/);
    expect(() => confusionMatrix([0, 1], [0], 3)).toThrowError(
      expect.objectContaining({ name: 'MetricsError', code: 'METRICS_LENGTH_MISMATCH' }),
    );
    expect(() => confusionMatrix([0], [0], 0)).toThrowError(MetricsError);
  });
});

describe('perClassMetrics and macroAverages', () => {
  it('compute hand-checked precision, recall, F1 and support', () => {
    // class 0: tp 1, predicted 2, support 2; class 1: tp 1, predicted 2, support 1;
    // class 2: tp 2, predicted 2, support 3.
    const cm = [
      [1, 1, 0],
      [0, 1, 0],
      [1, 0, 2],
    ];
    const m = perClassMetrics(cm);
    expect(m[0]).toEqual({ class: 0, precision: 0.5, recall: 0.5, f1: 0.5, support: 2 });
    expect(m[1]).toMatchObject({ precision: 0.5, recall: 1, support: 1 });
    expect(m[1].f1).toBeCloseTo(2 / 3, 12);
    expect(m[2]).toMatchObject({ precision: 1, support: 3 });
    expect(m[2].recall).toBeCloseTo(2 / 3, 12);
    expect(m[2].f1).toBeCloseTo(0.8, 12);
    const macro = macroAverages(m);
    expect(macro.precision).toBeCloseTo(2 / 3, 12);
    expect(macro.recall).toBeCloseTo((0.5 + 1 + 2 / 3) / 3, 12);
    expect(macro.f1).toBeCloseTo((0.5 + 2 / 3 + 0.8) / 3, 12);
  });

  it('report 0 where precision, recall or F1 are undefined', () => {
    // Class 1 is never predicted and never true; class 2 is predicted but never right.
    const m = perClassMetrics([
      [2, 0, 1],
      [0, 0, 0],
      [0, 0, 0],
    ]);
    expect(m[1]).toEqual({ class: 1, precision: 0, recall: 0, f1: 0, support: 0 });
    expect(m[2]).toEqual({ class: 2, precision: 0, recall: 0, f1: 0, support: 0 });
  });
});

describe('accuracy and argmaxRows', () => {
  it('accuracy is the fraction of matching predictions, 0 when empty', () => {
    expect(accuracy([1, 2, 3, 4], [1, 2, 0, 4])).toBe(0.75);
    expect(accuracy([], [])).toBe(0);
  });

  it('argmaxRows picks the first of tied maxima', () => {
    expect(Array.from(argmaxRows(new Float32Array([0.1, 0.7, 0.2, 0.4, 0.2, 0.4]), 3))).toEqual([1, 0]);
  });
});

describe('rocAucOneVsRest', () => {
  it('matches a hand-computed binary case with a tie', () => {
    // Class 1 scores: positives 0.9, 0.4; negatives 0.4, 0.1.
    // Pairs: (0.9>0.4) 1, (0.9>0.1) 1, (0.4=0.4) 0.5, (0.4>0.1) 1 → 3.5 / 4.
    const labels = [1, 1, 0, 0];
    const probs = new Float32Array([0.1, 0.9, 0.6, 0.4, 0.6, 0.4, 0.9, 0.1]);
    expect(rocAucOneVsRest(labels, probs, 2)).toEqual([0.875, 0.875]);
  });

  it('is 0.5 when every score is tied', () => {
    const probs = new Float32Array(12).fill(0.25);
    expect(rocAucOneVsRest([0, 1, 2], probs.subarray(0, 9), 3)).toEqual([0.5, 0.5, 0.5]);
  });

  it('is 1 for a perfect classifier and 0 for an inverted one', () => {
    const labels = [0, 1, 2, 0, 1, 2];
    const perfect = new Float32Array(labels.flatMap((l) => [0, 1, 2].map((c) => (c === l ? 0.8 : 0.1))));
    const inverted = perfect.map((p) => 1 - p);
    expect(rocAucOneVsRest(labels, perfect, 3)).toEqual([1, 1, 1]);
    expect(rocAucOneVsRest(labels, inverted, 3)).toEqual([0, 0, 0]);
  });

  it('matches the naive pair count on random scores with many ties', () => {
    for (const [seed, levels] of [[1, 4], [2, 10], [3, undefined]] as const) {
      const { labels, probs } = randomCase(seed, 300, 4, levels);
      const aucs = rocAucOneVsRest(labels, probs, 4);
      aucs.forEach((auc, c) => expect(auc).toBeCloseTo(naiveAuc(labels, probs, 4, c), 12));
    }
  });

  it('is close to 0.5 for a random classifier', () => {
    const { labels, probs } = randomCase(42, 20_000, 10);
    for (const auc of rocAucOneVsRest(labels, probs, 10)) expect(Math.abs(auc - 0.5)).toBeLessThan(0.03);
  });

  it('is NaN for a class with no positives, and macro AUC skips it', () => {
    const aucs = rocAucOneVsRest([0, 0, 1], new Float32Array([0.9, 0.1, 0, 0.8, 0.2, 0, 0.3, 0.7, 0]), 3);
    expect(aucs[2]).toBeNaN();
    expect(aucs[0]).toBe(1);
    expect(macroRocAuc(aucs)).toBe(1);
    expect(macroRocAuc([NaN])).toBeNaN();
  });

  it('handles infinite scores and rejects NaN scores', () => {
    const labels = [1, 0, 1, 0];
    const probs = new Float32Array([0, Infinity, 0, -Infinity, 0, Infinity, 0, Infinity]);
    expect(rocAucOneVsRest(labels, probs, 2)[1]).toBeCloseTo(naiveAuc(labels, probs, 2, 1), 12);
    probs[3] = NaN;
    expect(() => rocAucOneVsRest(labels, probs, 2)).toThrowError(/probabilities\[1\]\[1\] is NaN/);
  });
});

describe('evaluationReport', () => {
  it('combines accuracy, per-class and macro metrics, confusion matrix and AUC', () => {
    const { labels, probs } = randomCase(9, 200, 3, 20);
    const report = evaluationReport(labels, probs, 3);
    const preds = Array.from(argmaxRows(probs, 3));
    expect(report.confusionMatrix).toEqual(naiveConfusion(labels, preds, 3));
    expect(report.accuracy).toBe(labels.filter((l, i) => l === preds[i]).length / labels.length);
    expect(report.perClass).toEqual(perClassMetrics(report.confusionMatrix));
    expect(report.rocAuc).toEqual(rocAucOneVsRest(labels, probs, 3));
    expect(report.macro).toEqual({ ...macroAverages(report.perClass), rocAuc: macroRocAuc(report.rocAuc) });
  });

  it('gives accuracy 1 and every metric 1 for a perfect classifier', () => {
    const labels = [0, 1, 2, 2, 1, 0];
    const probs = new Float32Array(labels.flatMap((l) => [0, 1, 2].map((c) => (c === l ? 1 : 0))));
    const report = evaluationReport(labels, probs, 3);
    expect(report.accuracy).toBe(1);
    expect(report.macro).toEqual({ precision: 1, recall: 1, f1: 1, rocAuc: 1 });
  });

  it('rejects probabilities whose length is not labels × numClasses', () => {
    expect(() => evaluationReport([0, 1], new Float32Array(5), 3)).toThrowError(/length 5, expected 2 × 3 = 6/);
  });
});

describe('meanCrossEntropy', () => {
  it('is the mean of -log p(true class), written out by hand', () => {
    const probabilities = Float32Array.from([0.7, 0.2, 0.1, 0.25, 0.5, 0.25]);
    const expected = -(Math.log(0.7) + Math.log(0.25)) / 2;
    expect(meanCrossEntropy([0, 2], probabilities, 3)).toBeCloseTo(expected, 6);
  });

  it('clips a probability of 0 at the epsilon instead of going to Infinity', () => {
    expect(meanCrossEntropy([1], Float32Array.from([1, 0]), 2)).toBeCloseTo(-Math.log(CROSS_ENTROPY_EPSILON), 4);
  });

  it('refuses probabilities of the wrong length', () => {
    expect(() => meanCrossEntropy([0, 1], Float32Array.from([1, 0]), 2)).toThrow(MetricsError);
  });
});

import { describe, expect, it } from 'vitest';
import { evaluationReport } from '../../src/metrics/classification.js';
import { formatEvaluation } from '../../src/metrics/format.js';

// Class 2 has no examples, so its AUC is undefined.
const labels = [0, 0, 1, 1, 1];
const probs = new Float32Array([
  0.8, 0.1, 0.1,
  0.3, 0.6, 0.1,
  0.2, 0.7, 0.1,
  0.1, 0.8, 0.1,
  0.5, 0.4, 0.1,
]);
const text = formatEvaluation(evaluationReport(labels, probs, 3));
const lines = text.split('\n');

describe('formatEvaluation', () => {
  it('starts with the accuracy and the number of examples', () => {
    expect(lines[0]).toBe('accuracy 0.6000 (5 examples)');
  });

  it('prints one table row per class plus a macro row, all of equal width', () => {
    const header = lines.findIndex((l) => /^class\s+precision\s+recall\s+f1\s+auc\s+support$/.test(l));
    expect(header).toBeGreaterThan(0);
    const table = lines.slice(header, header + 5);
    expect(table[1].trim().split(/\s+/)).toEqual(['0', '0.5000', '0.5000', '0.5000', '0.8333', '2']);
    expect(table[3].trim().split(/\s+/)).toEqual(['2', '0.0000', '0.0000', '0.0000', 'n/a', '0']);
    expect(table[4].trim().split(/\s+/)[0]).toBe('macro');
    expect(new Set(table.map((l) => l.length)).size).toBe(1);
  });

  it('prints the confusion matrix with true classes on rows, right-aligned', () => {
    const title = lines.findIndex((l) => l.startsWith('confusion matrix'));
    const matrix = lines.slice(title + 1);
    expect(matrix).toHaveLength(4);
    expect(matrix[1].trim().split(/\s+/)).toEqual(['0', '1', '1', '0']);
    expect(matrix[2].trim().split(/\s+/)).toEqual(['1', '1', '2', '0']);
    expect(new Set(matrix.map((l) => l.length)).size).toBe(1);
  });
});

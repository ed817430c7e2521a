// Classification metrics for evaluation: confusion matrix, per-class precision/recall/F1,
// accuracy and one-vs-rest ROC AUC. Pure functions on plain and typed arrays (no tfjs), so
// they run the same in the coordinator, a worker or a test.
//
// Conventions for undefined values:
// - precision, recall and F1 are 0 when their denominator is 0 (no predictions of the class,
//   no examples of the class, or precision + recall = 0), as in scikit-learn's zero_division=0.
// - ROC AUC is NaN for a class with no positive or no negative examples (it has no meaning
//   there); macro AUC averages only the classes whose AUC is defined, and is NaN if none is.

import { MetricsError } from './errors.js';

export interface ClassMetrics {
  class: number;
  precision: number;
  recall: number;
  f1: number;
  /** Number of examples whose true label is this class. */
  support: number;
}

export interface MacroAverages {
  precision: number;
  recall: number;
  f1: number;
}

export interface EvaluationReport {
  accuracy: number;
  perClass: ClassMetrics[];
  macro: MacroAverages & { rocAuc: number };
  /** confusionMatrix[trueClass][predictedClass] = count. */
  confusionMatrix: number[][];
  /** One-vs-rest ROC AUC per class (NaN where undefined). */
  rocAuc: number[];
}

function checkNumClasses(numClasses: number): void {
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new MetricsError(
      'METRICS_BAD_NUM_CLASSES',
      `numClasses must be a positive integer, got ${numClasses}`,
    );
  }
}

function checkClassIndex(what: string, values: ArrayLike<number>, i: number, numClasses: number): void {
  const v = values[i];
  if (!Number.isInteger(v) || v < 0 || v >= numClasses) {
    throw new MetricsError(
      'METRICS_LABEL_OUT_OF_RANGE',
      `${what}[${i}] = ${v} is not a class index in [0, ${numClasses})`,
    );
  }
}

function checkSameLength(labels: ArrayLike<number>, other: ArrayLike<number>, what: string, per = 1): void {
  if (other.length !== labels.length * per) {
    const expected = per === 1 ? `${labels.length}` : `${labels.length} × ${per} = ${labels.length * per}`;
    throw new MetricsError(
      'METRICS_LENGTH_MISMATCH',
      `${what} has length ${other.length}, expected ${expected} (labels has ${labels.length})`,
    );
  }
}

/** Counts of (true class, predicted class) pairs; rows are true classes. */
export function confusionMatrix(
  labels: ArrayLike<number>,
  predictions: ArrayLike<number>,
  numClasses: number,
): number[][] {
  checkNumClasses(numClasses);
  checkSameLength(labels, predictions, 'predictions');
  const cm = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < labels.length; i++) {
    checkClassIndex('labels', labels, i, numClasses);
    checkClassIndex('predictions', predictions, i, numClasses);
    cm[labels[i]][predictions[i]]++;
  }
  return cm;
}

function ratioOrZero(numerator: number, denominator: number): number {
  return denominator === 0 ? 0 : numerator / denominator;
}

/** Precision, recall, F1 and support for each class of a confusion matrix (rows = true class). */
export function perClassMetrics(cm: number[][]): ClassMetrics[] {
  const k = cm.length;
  return cm.map((row, c) => {
    const truePositives = row[c];
    const support = row.reduce((a, b) => a + b, 0);
    let predicted = 0;
    for (let r = 0; r < k; r++) predicted += cm[r][c];
    const precision = ratioOrZero(truePositives, predicted);
    const recall = ratioOrZero(truePositives, support);
    const f1 = ratioOrZero(2 * precision * recall, precision + recall);
    return { class: c, precision, recall, f1, support };
  });
}

/** Unweighted means over all classes (F1 is the mean of per-class F1s, as in scikit-learn). */
export function macroAverages(perClass: ClassMetrics[]): MacroAverages {
  const n = perClass.length;
  const mean = (pick: (m: ClassMetrics) => number): number =>
    n === 0 ? 0 : perClass.reduce((sum, m) => sum + pick(m), 0) / n;
  return { precision: mean((m) => m.precision), recall: mean((m) => m.recall), f1: mean((m) => m.f1) };
}

/** Fraction of predictions equal to the label; 0 for an empty set. */
export function accuracy(labels: ArrayLike<number>, predictions: ArrayLike<number>): number {
  checkSameLength(labels, predictions, 'predictions');
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === predictions[i]) correct++;
  return ratioOrZero(correct, labels.length);
}

/** Index of the largest score in each row of an N×K row-major matrix (first index on ties). */
export function argmaxRows(scores: ArrayLike<number>, numClasses: number): Int32Array {
  checkNumClasses(numClasses);
  const n = Math.floor(scores.length / numClasses);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < numClasses; c++) {
      if (scores[i * numClasses + c] > scores[i * numClasses + best]) best = c;
    }
    out[i] = best;
  }
  return out;
}

/**
 * One-vs-rest ROC AUC of every class, computed exactly from ranks (Mann–Whitney U):
 * AUC = (sum of positive ranks − P(P+1)/2) / (P·N), with tied scores given their average rank,
 * so a tied positive/negative pair counts 1/2.
 */
export function rocAucOneVsRest(
  labels: ArrayLike<number>,
  probabilities: Float32Array,
  numClasses: number,
): number[] {
  checkNumClasses(numClasses);
  checkSameLength(labels, probabilities, 'probabilities', numClasses);
  const n = labels.length;
  const positives = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < n; i++) {
    checkClassIndex('labels', labels, i, numClasses);
    positives[labels[i]]++;
  }
  for (let j = 0; j < probabilities.length; j++) {
    if (Number.isNaN(probabilities[j])) {
      const row = Math.floor(j / numClasses);
      throw new MetricsError(
        'METRICS_NON_FINITE_SCORE',
        `probabilities[${row}][${j % numClasses}] is NaN; scores must be comparable numbers`,
      );
    }
  }

  const scores = new Float64Array(n);
  const order = new Uint32Array(n);
  return positives.map((pos, c) => {
    const neg = n - pos;
    if (pos === 0 || neg === 0) return NaN;
    for (let i = 0; i < n; i++) {
      scores[i] = probabilities[i * numClasses + c];
      order[i] = i;
    }
    // Comparison, not subtraction: Infinity − Infinity would be NaN.
    order.sort((a, b) => (scores[a] < scores[b] ? -1 : scores[a] > scores[b] ? 1 : 0));
    let positiveRankSum = 0;
    for (let start = 0; start < n; ) {
      let end = start + 1;
      while (end < n && scores[order[end]] === scores[order[start]]) end++;
      const averageRank = (start + 1 + end) / 2; // 1-based ranks start+1 .. end
      for (let j = start; j < end; j++) if (labels[order[j]] === c) positiveRankSum += averageRank;
      start = end;
    }
    return (positiveRankSum - (pos * (pos + 1)) / 2) / (pos * neg);
  });
}

/** Mean of the defined (non-NaN) per-class AUCs; NaN if none is defined. */
export function macroRocAuc(perClassAuc: number[]): number {
  const defined = perClassAuc.filter((a) => !Number.isNaN(a));
  return defined.length === 0 ? NaN : defined.reduce((a, b) => a + b, 0) / defined.length;
}

/** Every metric of a classifier from its labels and N×K row-major class probabilities. */
export function evaluationReport(
  labels: ArrayLike<number>,
  probabilities: Float32Array,
  numClasses: number,
): EvaluationReport {
  const rocAuc = rocAucOneVsRest(labels, probabilities, numClasses); // validates inputs
  const predictions = argmaxRows(probabilities, numClasses);
  const cm = confusionMatrix(labels, predictions, numClasses);
  const perClass = perClassMetrics(cm);
  return {
    accuracy: accuracy(labels, predictions),
    perClass,
    macro: { ...macroAverages(perClass), rocAuc: macroRocAuc(rocAuc) },
    confusionMatrix: cm,
    rocAuc,
  };
}

/** Probabilities are clipped to this before the log, as Keras' categorical cross-entropy does. */
export const CROSS_ENTROPY_EPSILON = 1e-7;

/** Mean cross-entropy −log p(true class) over N×K row-major class probabilities. */
export function meanCrossEntropy(labels: ArrayLike<number>, probabilities: Float32Array, numClasses: number): number {
  checkNumClasses(numClasses);
  const n = labels.length;
  if (probabilities.length !== n * numClasses) {
    throw new MetricsError('METRICS_LENGTH_MISMATCH', `probabilities has ${probabilities.length} values, expected ${n} × ${numClasses}`);
  }
  let sum = 0;
  for (let i = 0; i < n; i++) {
    checkClassIndex('labels', labels, i, numClasses);
    sum -= Math.log(Math.min(1, Math.max(CROSS_ENTROPY_EPSILON, probabilities[i * numClasses + labels[i]])));
  }
  return n === 0 ? NaN : sum / n;
}

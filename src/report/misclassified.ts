// The test images the model got wrong with the most confidence: the first place to look for
// label noise, ambiguous digits or a systematic confusion.
import { argmaxRows } from '../metrics/classification.js';

export interface Misclassification {
  /** Index of the example in the evaluated split. */
  index: number;
  label: number;
  predicted: number;
  /** Probability the model gave its (wrong) prediction. */
  confidence: number;
  /** Probability the model gave the true class. */
  trueClassProbability: number;
}

/** Up to `count` wrong predictions (argmax as in the evaluation report), most confident first; ties keep dataset order. */
export function worstMisclassified(labels: ArrayLike<number>, probabilities: Float32Array, numClasses: number, count: number): Misclassification[] {
  const predictions = argmaxRows(probabilities, numClasses);
  const wrong: Misclassification[] = [];
  for (let i = 0; i < labels.length; i++) {
    const predicted = predictions[i];
    const label = labels[i];
    if (predicted === label) continue;
    wrong.push({
      index: i,
      label,
      predicted,
      confidence: probabilities[i * numClasses + predicted],
      trueClassProbability: probabilities[i * numClasses + label],
    });
  }
  return wrong.sort((a, b) => b.confidence - a.confidence || a.index - b.index).slice(0, count);
}

// Model selection on the validation split: which epoch is the best so far by the chosen metric
// (--save-best), and whether the run has gone --early-stop epochs without beating it. Pure: the
// state is data, kept in state.json so that a resumed run goes on counting where it stopped.
import type { SelectionState } from '../../schemas/runState.js';
import type { ValidationMetric } from '../../schemas/runConfig.js';

export type { SelectionState } from '../../schemas/runState.js';

export interface ValidationScores {
  val_loss: number;
  val_accuracy: number;
}

/** The metric --early-stop follows: --save-best's, else the validation loss (as Keras' EarlyStopping). */
export function selectionMetric(config: { saveBest?: ValidationMetric }): ValidationMetric {
  return config.saveBest ?? 'val_loss';
}

function better(metric: ValidationMetric, value: number, best: number): boolean {
  return metric === 'val_loss' ? value < best : value > best;
}

/** The state after evaluating epoch `epoch` (0-based), and whether it is the new best. */
export function afterValidation(previous: SelectionState | undefined, metric: ValidationMetric, epoch: number, scores: ValidationScores): { state: SelectionState; improved: boolean } {
  const value = scores[metric];
  if (!previous || previous.metric !== metric || better(metric, value, previous.best)) {
    return { state: { metric, best: value, bestEpoch: epoch, epochsSinceBest: 0 }, improved: true };
  }
  return { state: { ...previous, epochsSinceBest: previous.epochsSinceBest + 1 }, improved: false };
}

/** True once `patience` epochs (0: never) have passed without improvement. */
export function patienceRunOut(state: SelectionState | undefined, patience: number): boolean {
  return patience > 0 && state !== undefined && state.epochsSinceBest >= patience;
}

// What a worker says about its part of a step besides gradients: its mean loss and how many of
// its examples it classified correctly. The coordinator cannot recompute them, so they are only
// checked for being possible; they are shown (metrics, dashboard) and never steer training.

export interface StepClaims {
  loss: number;
  correct: number;
  exampleCount: number;
}

/** Why these claims cannot be true, or null when they can. */
export function checkStepClaims({ loss, correct, exampleCount }: StepClaims): string | null {
  if (!Number.isFinite(loss)) return `loss is ${loss}`;
  // Cross-entropy is never negative.
  if (loss < 0) return `loss is ${loss}; a cross-entropy loss cannot be negative`;
  if (!Number.isInteger(correct) || correct < 0 || correct > exampleCount) {
    return `correct is ${correct}; it must be a whole number from 0 to the part's ${exampleCount} examples`;
  }
  return null;
}

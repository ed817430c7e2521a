import { describe, expect, it } from 'vitest';
import { afterValidation, patienceRunOut, selectionMetric } from '../../../src/training/loop/modelSelection.js';

const scores = (val_loss: number, val_accuracy: number) => ({ val_loss, val_accuracy });

describe('model selection on the validation split', () => {
  it('follows --save-best, else the validation loss', () => {
    expect(selectionMetric({})).toBe('val_loss');
    expect(selectionMetric({ saveBest: 'val_accuracy' })).toBe('val_accuracy');
  });

  it('the first epoch is the best; a lower loss improves, an equal or higher one counts an epoch without', () => {
    let { state, improved } = afterValidation(undefined, 'val_loss', 0, scores(1.0, 0.5));
    expect(improved).toBe(true);
    expect(state).toEqual({ metric: 'val_loss', best: 1.0, bestEpoch: 0, epochsSinceBest: 0 });
    ({ state, improved } = afterValidation(state, 'val_loss', 1, scores(1.0, 0.9)));
    expect(improved).toBe(false);
    expect(state.epochsSinceBest).toBe(1);
    ({ state, improved } = afterValidation(state, 'val_loss', 2, scores(1.2, 0.9)));
    expect(state).toEqual({ metric: 'val_loss', best: 1.0, bestEpoch: 0, epochsSinceBest: 2 });
    ({ state, improved } = afterValidation(state, 'val_loss', 3, scores(0.8, 0.1)));
    expect(improved).toBe(true);
    expect(state).toEqual({ metric: 'val_loss', best: 0.8, bestEpoch: 3, epochsSinceBest: 0 });
  });

  it('a higher accuracy improves', () => {
    const first = afterValidation(undefined, 'val_accuracy', 0, scores(1, 0.5)).state;
    expect(afterValidation(first, 'val_accuracy', 1, scores(9, 0.6)).improved).toBe(true);
    expect(afterValidation(first, 'val_accuracy', 1, scores(0.1, 0.4)).improved).toBe(false);
  });

  it('patience runs out after that many epochs without improvement; 0 never', () => {
    const state = { metric: 'val_loss' as const, best: 1, bestEpoch: 0, epochsSinceBest: 2 };
    expect(patienceRunOut(state, 2)).toBe(true);
    expect(patienceRunOut(state, 3)).toBe(false);
    expect(patienceRunOut(state, 0)).toBe(false);
    expect(patienceRunOut(undefined, 1)).toBe(false);
  });
});

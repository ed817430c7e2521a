import { describe, expect, it } from 'vitest';
import { checkStepClaims } from '../../src/numerics/stepClaims.js';

describe('checkStepClaims', () => {
  it('accepts a finite, non-negative loss and 0 ≤ correct ≤ examples', () => {
    expect(checkStepClaims({ loss: 2.3, correct: 0, exampleCount: 16 })).toBeNull();
    expect(checkStepClaims({ loss: 0, correct: 16, exampleCount: 16 })).toBeNull();
  });

  it.each([
    [{ loss: Number.NaN, correct: 1, exampleCount: 16 }, /loss is NaN/],
    [{ loss: Number.POSITIVE_INFINITY, correct: 1, exampleCount: 16 }, /loss is Infinity/],
    [{ loss: -1, correct: 1, exampleCount: 16 }, /cannot be negative/],
    [{ loss: 1, correct: 17, exampleCount: 16 }, /correct is 17; it must be a whole number from 0 to the part's 16 examples/],
    [{ loss: 1, correct: -1, exampleCount: 16 }, /correct is -1/],
    [{ loss: 1, correct: 2.5, exampleCount: 16 }, /correct is 2.5/],
  ])('refuses %o', (claims, why) => {
    expect(checkStepClaims(claims)).toMatch(why);
  });
});

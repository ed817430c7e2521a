// The dashboard's step history: bounded, yet covering the whole run, newest always kept.
import { describe, expect, it } from 'vitest';
import { StepHistory, thinKeepingNewest } from '../../src/coordinator/stepHistory.js';

describe('StepHistory', () => {
  it('keeps every record while under its limit', () => {
    const history = new StepHistory<number>(10);
    for (let step = 1; step <= 10; step++) history.add(step);
    expect(history.all()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('never holds more than its limit, however long the run', () => {
    const history = new StepHistory<number>(100);
    let largest = 0;
    for (let step = 1; step <= 100_000; step++) {
      history.add(step);
      largest = Math.max(largest, history.size);
    }
    expect(largest).toBe(100);
  });

  it('still spans the whole run after thinning, from near the first step to the newest', () => {
    const history = new StepHistory<number>(100);
    for (let step = 1; step <= 10_000; step++) history.add(step);
    const kept = history.all();
    expect(kept[kept.length - 1]).toBe(10_000);
    expect(kept[0]).toBeLessThanOrEqual(10_000 / 50);
    expect(kept).toEqual([...kept].sort((a, b) => a - b));
  });

  it('thins to every second record counted back from the newest', () => {
    expect(thinKeepingNewest([1, 2, 3, 4, 5])).toEqual([1, 3, 5]);
    expect(thinKeepingNewest([1, 2, 3, 4])).toEqual([2, 4]);
  });

  it('refuses a limit that cannot hold the newest record and one more', () => {
    expect(() => new StepHistory(1)).toThrow(/at least 2/);
  });
});

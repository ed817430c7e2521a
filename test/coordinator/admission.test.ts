// Admission of unauthenticated connections, with a hand-driven clock: the pending cap and the
// per-address backoff after failed handshakes.
import { describe, expect, it } from 'vitest';
import { Admission } from '../../src/coordinator/admission.js';

describe('Admission', () => {
  it('refuses a connection beyond maxPending with 503 and admits again once one ends', () => {
    const admission = new Admission({ maxPending: 2 });
    const ends = [admission.begin(), admission.begin()];
    expect(admission.refusal('10.0.0.1')).toMatchObject({ status: 503 });
    ends[0]();
    ends[0]();
    expect(admission.pending).toBe(1);
    expect(admission.refusal('10.0.0.1')).toBeUndefined();
  });

  it('an address that failed waits backoffMs, doubling with each failure up to maxBackoffMs; a success forgets it', () => {
    let now = 0;
    const admission = new Admission({ backoffMs: 1000, maxBackoffMs: 4000, now: () => now });
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) {
      admission.failed('10.0.0.1');
      const started = now;
      while (admission.refusal('10.0.0.1')) now += 100;
      waits.push(now - started);
    }
    expect(waits).toEqual([1000, 2000, 4000, 4000]);
    expect(admission.refusal('10.0.0.2')).toBeUndefined();
    admission.failed('10.0.0.1');
    admission.succeeded('10.0.0.1');
    expect(admission.refusal('10.0.0.1')).toBeUndefined();
  });
});

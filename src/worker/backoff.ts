// Exponential backoff with jitter for reconnecting: 0.5 s, 1 s, 2 s … capped at 10 s.
export const BACKOFF_INITIAL_MS = 500;
export const BACKOFF_MAX_MS = 10_000;

export class Backoff {
  private attempt = 0;

  next(): number {
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_INITIAL_MS * 2 ** this.attempt);
    this.attempt += 1;
    return base * (0.75 + 0.5 * Math.random());
  }

  /** After a connection that worked: start again from the shortest delay. */
  reset(): number {
    this.attempt = 0;
    return this.next();
  }
}

// A bounded record of a run's steps for pages opened mid-run: it keeps the whole curve by
// thinning, not the newest N. When full, every other record is dropped (the newest is always
// kept), so old parts of the run get coarser while memory stays at most `limit` records.
import { CoordinatorError } from './errors.js';

export const DEFAULT_HISTORY_LIMIT = 2_000;

export class StepHistory<T> {
  private records: T[] = [];

  constructor(readonly limit = DEFAULT_HISTORY_LIMIT) {
    if (!Number.isInteger(limit) || limit < 2) throw new CoordinatorError('INVALID_OPTIONS', `step history limit must be an integer of at least 2 (it thins by halves), got ${limit}`);
  }

  add(record: T): void {
    this.records.push(record);
    if (this.records.length > this.limit) this.records = thinKeepingNewest(this.records);
  }

  get size(): number {
    return this.records.length;
  }

  /** The kept records, oldest first (a copy). */
  all(): T[] {
    return this.records.slice();
  }
}

/** Every second record, counted back from the newest so that the newest survives. */
export function thinKeepingNewest<T>(records: readonly T[]): T[] {
  const last = records.length - 1;
  return records.filter((_, i) => (last - i) % 2 === 0);
}

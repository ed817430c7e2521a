// A cumulative histogram with fixed upper bounds, as Prometheus histograms count: each bucket
// holds the observations at or below its bound, the last (+Inf) all of them, plus their sum.

export class Histogram {
  private readonly counts: number[];
  private total = 0;
  private observations = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = bounds.map(() => 0);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) return;
    this.observations += 1;
    this.total += value;
    for (let i = 0; i < this.bounds.length; i++) if (value <= this.bounds[i]) this.counts[i] += 1;
  }

  /** [upper bound, observations at or below it], cumulative, ending with +Inf. */
  buckets(): Array<[number, number]> {
    return [...this.bounds.map((bound, i): [number, number] => [bound, this.counts[i]]), [Infinity, this.observations]];
  }

  get sum(): number {
    return this.total;
  }

  get count(): number {
    return this.observations;
  }
}

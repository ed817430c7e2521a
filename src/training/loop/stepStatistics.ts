// Running figures of a training run: throughput (wall clock from the end of the first, warm-up
// step, so everything between steps counts too), loss and accuracy over the epoch so far, bytes
// and mean time per phase.
import type { StepContribution } from '../optimizer/aggregate.js';
import type { StepTimings } from './source.js';

const WARMUP_STEPS = 1;

export class StepStatistics {
  private steps = 0;
  private timedImages = 0;
  private timedMs = 0;
  private timedSince = 0;
  private bytes = 0;
  private epochLossSum = 0;
  private epochCorrect = 0;
  private epochCount = 0;
  private lastLoss = NaN;
  private lastAccuracy = NaN;
  private readonly timingSums = new Map<string, number>();

  startEpoch(): void {
    this.epochLossSum = 0;
    this.epochCorrect = 0;
    this.epochCount = 0;
  }

  record(c: StepContribution, timings: StepTimings, bytes: number): void {
    this.steps += 1;
    this.bytes += bytes;
    this.epochLossSum += c.loss * c.count;
    this.epochCorrect += c.correct;
    this.epochCount += c.count;
    this.lastLoss = c.loss;
    this.lastAccuracy = c.correct / c.count;
    const now = performance.now();
    if (this.steps === WARMUP_STEPS) this.timedSince = now;
    if (this.steps > WARMUP_STEPS) {
      this.timedImages += c.count;
      this.timedMs = now - this.timedSince;
      for (const [phase, ms] of Object.entries(timings)) {
        if (typeof ms === 'number') this.timingSums.set(phase, (this.timingSums.get(phase) ?? 0) + ms);
      }
    }
  }

  /** Leaves time spent outside training steps (evaluation, checkpoints) out of the throughput. */
  exclude(ms: number): void {
    this.timedSince += ms;
  }

  snapshot() {
    return {
      imagesPerSecond: this.timedMs > 0 ? (1000 * this.timedImages) / this.timedMs : 0,
      epochLoss: this.epochCount > 0 ? this.epochLossSum / this.epochCount : NaN,
      epochAccuracy: this.epochCount > 0 ? this.epochCorrect / this.epochCount : NaN,
    };
  }

  summary() {
    const timedSteps = Math.max(0, this.steps - WARMUP_STEPS);
    const meanTimings: StepTimings = { compute: 0 };
    for (const [phase, sum] of this.timingSums) (meanTimings as unknown as Record<string, number>)[phase] = timedSteps > 0 ? sum / timedSteps : 0;
    return {
      imagesPerSecond: this.snapshot().imagesPerSecond,
      lastLoss: this.lastLoss,
      lastAccuracy: this.lastAccuracy,
      bytesPerStep: this.steps > 0 ? this.bytes / this.steps : 0,
      meanTimings,
    };
  }
}

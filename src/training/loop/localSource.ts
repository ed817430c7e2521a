// Gradients from a replica in this very process: the standalone worker's source. The next
// batch is gathered right after a step, as a distributed worker does while it waits.
import type { PreparedBatch, Replica } from '../replica/replica.js';
import type { GradientSource, StepOutcome, StepRequest } from './source.js';

export class LocalGradientSource implements GradientSource {
  private prepared?: PreparedBatch;

  constructor(private readonly replica: Replica) {}

  async computeStep(request: StepRequest): Promise<StepOutcome> {
    const batch = this.replica.batchFor(request.indices, request.augmentSeed, this.prepared);
    const contribution = await this.replica.compute(batch, request.globalStep);
    this.prepared = request.next ? this.replica.prepare(request.next.indices, request.next.augmentSeed) : undefined;
    return { contribution, timings: { compute: contribution.computeMs }, bytes: 0, workers: 1 };
  }

  async publishWeights(weights: ReadonlyMap<string, Float32Array>, _version: number, changed: readonly string[]) {
    const started = performance.now();
    this.replica.setWeights(new Map(changed.map((name) => [name, weights.get(name)!])));
    return { bytes: 0, ms: performance.now() - started };
  }
}


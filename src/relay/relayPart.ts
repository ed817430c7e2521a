// One step's part as the relay handles it: the coordinator's `step` becomes a request for the
// local workers (the relay's part is their global batch), and their combined contribution
// becomes one `gradients` message. combineContributions already averaged the local parts by
// example count, so the message carries the mean over all the relay's examples and their total
// count, exactly what a worker with that many examples would send: the coordinator's own
// count-weighted average then gives every example the same weight it would have with direct
// workers (Σᵣ nᵣ/n · Σᵢ nᵢ/nᵣ · gᵢ = Σᵢ nᵢ/n · gᵢ), and batch-norm statistics combine the same way.
import { DEFAULT_WIRE_DTYPE, tensorsFromMap, type DtypeOfVariable, type GradientsMessage, type StepMessage } from '../protocol/index.js';
import type { StepOutcome, StepRequest } from '../training/loop/source.js';
import { RelayError } from './errors.js';

export function localRequest(step: StepMessage): StepRequest {
  return {
    epoch: step.epoch,
    stepInEpoch: 0,
    globalStep: step.step,
    indices: step.indices,
    augmentSeed: step.augmentSeed,
    next: step.nextIndices ? { indices: step.nextIndices, augmentSeed: step.nextAugmentSeed ?? step.augmentSeed } : undefined,
    weightsVersion: step.weightsVersion,
  };
}

export interface VariableNames {
  trainable: readonly string[];
  statistics: readonly string[];
  shapes: ReadonlyMap<string, readonly number[]>;
  /** Each variable's wire dtype (the run's); float32 when absent. */
  dtypeOf?: DtypeOfVariable;
}

/**
 * The relay's answer to `step`: its workers' combined contribution as one gradients message, or
 * PART_INCOMPLETE when some of the step's examples are missing from it (a local worker left,
 * timed out or was refused): the coordinator only accepts a part with every example it sent, and
 * drops a part reported as failed the way it drops a direct worker's.
 */
export function upstreamGradients(step: StepMessage, relayId: string, outcome: StepOutcome, names: VariableNames, encodeMs = 0): GradientsMessage {
  const { contribution } = outcome;
  if (contribution.count !== step.indices.length) {
    throw new RelayError('PART_INCOMPLETE', `step ${step.step}: the local workers returned ${contribution.count} of the part's ${step.indices.length} examples; failing the part`);
  }
  return {
    type: 'gradients',
    step: step.step,
    weightsVersion: step.weightsVersion,
    workerId: relayId,
    exampleCount: contribution.count,
    loss: contribution.loss,
    correct: contribution.correct,
    gradients: tensorsFromMap(contribution.gradients, names.shapes, names.trainable, names.dtypeOf ?? (() => DEFAULT_WIRE_DTYPE)),
    bnStats: tensorsFromMap(contribution.movingStatistics, names.shapes, names.statistics, names.dtypeOf ?? (() => DEFAULT_WIRE_DTYPE)),
    timings: { computeMs: outcome.timings.compute, encodeMs },
  };
}

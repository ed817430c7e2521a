// Size limits: the frame-size bound derived from the model (for ws `maxPayload`) and the
// resolution of partial decode limits against the defaults.

import {
  BYTES_PER_ELEMENT,
  DEFAULT_FRAME_OVERHEAD_BYTES,
  DEFAULT_LIMITS,
  type DecodeLimits,
} from './constants.js';
import { BYTES_PER_INDEX } from './indexLists.js';

export interface PayloadBudget {
  /** Most example indices one `step` can carry per list; default DEFAULT_LIMITS.maxIndices. */
  maxIndices?: number;
  /** Allowance for field names, tensor headers, config and model spec; default 64 KiB. */
  overheadBytes?: number;
  /** Tensor-data copies to allow for, as a multiple of the model's size; default 2. */
  modelCopies?: number;
}

/**
 * Largest frame either side should accept for a model with `paramCount` float32 values in all its
 * variables (trainable and not):
 *   4 × paramCount × modelCopies + 2 lists × 4 × maxIndices + overheadBytes.
 * The biggest real frames are `welcome` (all weights + JSON) and `gradients` (trainable gradients +
 * batch-norm statistics), each at most one copy of the model, so two copies leave headroom.
 */
export function maxPayloadBytes(paramCount: number, opts: PayloadBudget = {}): number {
  const maxIndices = opts.maxIndices ?? DEFAULT_LIMITS.maxIndices;
  const overheadBytes = opts.overheadBytes ?? DEFAULT_FRAME_OVERHEAD_BYTES;
  const modelCopies = opts.modelCopies ?? 2;
  for (const [name, value] of Object.entries({ paramCount, maxIndices, overheadBytes, modelCopies })) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`maxPayloadBytes: ${name} must be a non-negative integer, got ${value}`);
    }
  }
  return BYTES_PER_ELEMENT * paramCount * modelCopies + 2 * BYTES_PER_INDEX * maxIndices + overheadBytes;
}

/** DEFAULT_LIMITS with the given fields replaced (undefined fields keep their default). */
export function resolveLimits(limits: Partial<DecodeLimits> = {}): DecodeLimits {
  const resolved: DecodeLimits = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof DecodeLimits)[]) {
    const value = limits[key];
    if (value !== undefined) resolved[key] = value;
  }
  return resolved;
}

// Which variables the messages of a run carry, as its `welcome` states them: `gradients.gradients`
// the trainable ones, `gradients.bnStats` the moving statistics of trainable batch norm, a partial
// `weights` message only those two sets. Every other variable is frozen (fine-tuning): it crosses
// the wire once, in `welcome`, and a later message carrying it is refused with FROZEN_TENSOR.
import { protocolError, type ProtocolError } from './errors.js';
import type { WireTensor } from './tensors.js';

export interface CarriedVariables {
  /** Names `gradients.gradients` carries (`welcome.trainable`). */
  trainable: readonly string[];
  /** Names `gradients.bnStats` carries (`welcome.statistics`). */
  statistics: readonly string[];
}

/** Variables of `all` that no message after the welcome may carry. */
export function frozenVariables(all: Iterable<string>, carried: CarriedVariables): Set<string> {
  const moving = new Set([...carried.trainable, ...carried.statistics]);
  return new Set([...all].filter((name) => !moving.has(name)));
}

/** FROZEN_TENSOR naming the first tensor of a frozen variable, or null when there is none. */
export function findFrozenTensor(tensors: readonly WireTensor[], frozen: ReadonlySet<string>, field: string): ProtocolError | null {
  const hit = tensors.find((t) => frozen.has(t.name));
  if (!hit) return null;
  return protocolError('FROZEN_TENSOR', `${field} carries '${hit.name}', a frozen variable of this run; only the variables of welcome.trainable and welcome.statistics may travel after the welcome`);
}

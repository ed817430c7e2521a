// What --resume checks in a checkpoint beyond its checksums: a checkpoint can verify and still
// hold values a run cannot continue from, e.g. Adam's second moment at +Infinity (every later
// update would be exactly 0) or a poisoned batch-norm variance. Such a checkpoint is refused,
// naming its file and tensor, rather than resumed into a run that looks alive and learns nothing.
import { join } from 'node:path';
import { OPTIMIZER_BIN_FILE } from '../../checkpoint/checkpoint.js';
import { CheckpointError } from '../../checkpoint/errors.js';
import { WEIGHTS_FILE } from '../../checkpoint/tfjsFiles.js';
import { checkMovingStatistics } from '../../numerics/movingStatistics.js';
import { firstNonFinite, type TensorMap } from '../../numerics/vectors.js';

const SECOND_MOMENT = /^adam\/v\//;

function notSane(dir: string, file: string, what: string): CheckpointError {
  return new CheckpointError(
    'CKPT_NOT_SANE',
    `${join(dir, file)}: ${what}; this checkpoint cannot be resumed (move ${dir} aside to resume from the one before it, or start a new run)`,
  );
}

/** Throws CKPT_NOT_SANE, naming the file and tensor, unless the weights and Adam state are sane. */
export function checkResumedState(dir: string, weights: TensorMap, optimizer: TensorMap, adamStep: unknown): void {
  for (const [name, values] of weights) {
    const index = firstNonFinite(values);
    if (index >= 0) throw notSane(dir, WEIGHTS_FILE, `weight '${name}'[${index}] is ${values[index]}`);
  }
  const statistics = checkMovingStatistics(weights, new Map());
  if (statistics) throw notSane(dir, WEIGHTS_FILE, `batch-norm statistic ${statistics}`);
  for (const [name, values] of optimizer) {
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (!Number.isFinite(v)) throw notSane(dir, OPTIMIZER_BIN_FILE, `Adam state '${name}'[${i}] is ${v}`);
      if (SECOND_MOMENT.test(name) && v < 0) throw notSane(dir, OPTIMIZER_BIN_FILE, `Adam state '${name}'[${i}] is ${v}; a second moment cannot be negative`);
    }
  }
  if (!Number.isSafeInteger(adamStep) || (adamStep as number) < 0) throw notSane(dir, 'state.json', `adamStep is ${JSON.stringify(adamStep)}, expected a non-negative integer`);
}

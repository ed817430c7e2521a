// state.json of a checkpoint: where the run stands (position, Adam's step count, the weights'
// version) and the run config it was trained with. Written by the training set-up at every
// checkpoint; read by --resume, fine-tune, evaluate and report.
import { Type, type Static } from '@sinclair/typebox';
import { compileValidator } from './check.js';
import { nonNegativeInteger } from './fields.js';
import { TrainConfigSchema, VALIDATION_METRICS } from './runConfig.js';

export const TrainingPositionSchema = Type.Object({
  epoch: nonNegativeInteger(),
  stepInEpoch: nonNegativeInteger(),
  globalStep: nonNegativeInteger(),
});

/** Where model selection stands on the validation split, so that --resume keeps --save-best and --early-stop going. */
export const SelectionStateSchema = Type.Object({
  metric: Type.Union(VALIDATION_METRICS.map((m) => Type.Literal(m)), { expected: `one of ${VALIDATION_METRICS.join(', ')}` }),
  /** The best value so far and the epoch (0-based) it came at. */
  best: Type.Number({ expected: 'a number' }),
  bestEpoch: nonNegativeInteger(),
  /** Epochs evaluated since the best one. */
  epochsSinceBest: nonNegativeInteger(),
});

export const RunStateSchema = Type.Object({
  /** Names the checkpoint (step-<step>); equal to position.globalStep. */
  step: nonNegativeInteger(),
  position: TrainingPositionSchema,
  adamStep: nonNegativeInteger(),
  weightsVersion: nonNegativeInteger(),
  config: TrainConfigSchema,
  /** Absent in runs without a validation split, and before its first evaluation. */
  selection: Type.Optional(SelectionStateSchema),
});

export type TrainingPosition = Static<typeof TrainingPositionSchema>;
export type RunState = Static<typeof RunStateSchema>;
export type SelectionState = Static<typeof SelectionStateSchema>;
export const runStateValidator = compileValidator(RunStateSchema);

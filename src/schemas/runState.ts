// state.json of a checkpoint: where the run stands (position, Adam's step count, the weights'
// version) and the run config it was trained with. Written by the training set-up at every
// checkpoint; read by --resume, fine-tune, evaluate and report.
import { Type, type Static } from '@sinclair/typebox';
import { compileValidator } from './check.js';
import { nonNegativeInteger } from './fields.js';
import { TrainConfigSchema } from './runConfig.js';

export const TrainingPositionSchema = Type.Object({
  epoch: nonNegativeInteger(),
  stepInEpoch: nonNegativeInteger(),
  globalStep: nonNegativeInteger(),
});

export const RunStateSchema = Type.Object({
  /** Names the checkpoint (step-<step>); equal to position.globalStep. */
  step: nonNegativeInteger(),
  position: TrainingPositionSchema,
  adamStep: nonNegativeInteger(),
  weightsVersion: nonNegativeInteger(),
  config: TrainConfigSchema,
});

export type TrainingPosition = Static<typeof TrainingPositionSchema>;
export type RunState = Static<typeof RunStateSchema>;
export const runStateValidator = compileValidator(RunStateSchema);

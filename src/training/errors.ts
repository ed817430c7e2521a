// TrainingError: what stops a run before or during training that is not a flag's or a file's
// schema (those are TrainConfigError and RunStateError): weights that do not fit the model, a
// fine-tune source that cannot be used, an optimizer fed something it does not hold.
import { CodedError } from '../errors/codedError.js';

export type TrainingErrorCode =
  /** A gradient, weight or optimizer slot names a variable the model does not have, or has the wrong size. */
  | 'WEIGHTS_MISMATCH'
  /** A step had no examples to average. */
  | 'NO_CONTRIBUTIONS'
  /** The run's data cannot give what the config asks (batch larger than the set, classes not in it). */
  | 'DATA_TOO_SMALL'
  | 'CLASSES_NOT_IN_DATASET'
  /** The checkpoint given to fine-tune cannot be fine-tuned as asked. */
  | 'FINETUNE_SOURCE';

export class TrainingError extends CodedError<TrainingErrorCode> {}

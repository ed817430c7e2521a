// Errors raised by the evaluation metrics when their inputs cannot describe a classification.
import { CodedError } from '../errors/codedError.js';

export type MetricsErrorCode =
  | 'METRICS_LENGTH_MISMATCH'
  | 'METRICS_LABEL_OUT_OF_RANGE'
  | 'METRICS_NON_FINITE_SCORE'
  | 'METRICS_BAD_NUM_CLASSES';

export class MetricsError extends CodedError<MetricsErrorCode> {}

// Errors raised by the evaluation metrics when their inputs cannot describe a classification.

export type MetricsErrorCode =
  | 'METRICS_LENGTH_MISMATCH'
  | 'METRICS_LABEL_OUT_OF_RANGE'
  | 'METRICS_NON_FINITE_SCORE'
  | 'METRICS_BAD_NUM_CLASSES';

export class MetricsError extends Error {
  override readonly name = 'MetricsError';
  constructor(
    readonly code: MetricsErrorCode,
    message: string,
  ) {
    super(message);
  }
}

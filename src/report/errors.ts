// Errors of `dsdc-dist report`: a code, and a sentence naming the file or flag to fix.

export type ReportErrorCode = 'REPORT_NO_METRICS' | 'REPORT_BAD_METRICS_LINE' | 'REPORT_NO_STEPS';

export class ReportError extends Error {
  override readonly name = 'ReportError';
  constructor(
    readonly code: ReportErrorCode,
    message: string,
  ) {
    super(message);
  }
}

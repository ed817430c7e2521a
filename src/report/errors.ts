// Errors of `dsdc-dist report`: a code, and a sentence naming the file or flag to fix.
import { CodedError } from '../errors/codedError.js';

export type ReportErrorCode = 'REPORT_NO_METRICS' | 'REPORT_BAD_METRICS_LINE' | 'REPORT_NO_STEPS' | 'CHROMIUM_MISSING';

export class ReportError extends CodedError<ReportErrorCode> {}

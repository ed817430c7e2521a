// UsageError: flags that do not go together or do not parse; the message names the flag.
import { CodedError } from '../errors/codedError.js';

export type UsageErrorCode = 'USAGE' | 'RUN_STOPPED';

/** A command line (or config file, or DSDC_* variable) that does not parse: 2, as getopt and argparse have it. */
export const USAGE_EXIT_CODE = 2;

export class UsageError extends CodedError<UsageErrorCode> {
  constructor(message: string, code: UsageErrorCode = 'USAGE') {
    super(code, message, { exitCode: code === 'USAGE' ? USAGE_EXIT_CODE : 1 });
  }
}

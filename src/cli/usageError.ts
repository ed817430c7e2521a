// UsageError: flags that do not go together or do not parse; the message names the flag.
import { CodedError } from '../errors/codedError.js';

export type UsageErrorCode = 'USAGE' | 'RUN_STOPPED';

export class UsageError extends CodedError<UsageErrorCode> {
  constructor(message: string, code: UsageErrorCode = 'USAGE') {
    super(code, message);
  }
}

// DataError: the one error type of the data layer. Each carries a stable `code` that callers
// (CLI, worker) can switch on, the file it concerns when there is one, and a message that says
// what was expected, what came, and what to do about it.
import { CodedError } from '../errors/codedError.js';

export type DataErrorCode =
  | 'IDX_BAD_MAGIC'
  | 'IDX_BAD_GZIP'
  | 'IDX_TRUNCATED'
  | 'IDX_SIZE_MISMATCH'
  | 'IDX_UNSUPPORTED_DTYPE'
  | 'DATA_COUNT_MISMATCH'
  | 'DATA_LABEL_RANGE'
  | 'DATA_SHAPE'
  | 'DATA_EMPTY'
  | 'DATA_MISSING_FILE'
  | 'DATA_CLASS_LIST'
  | 'DATA_BATCH'
  | 'DATA_VALIDATION_SPLIT'
  | 'CACHE_CORRUPT'
  | 'CACHE_CLOSED';

export class DataError extends CodedError<DataErrorCode> {
  readonly file?: string;

  constructor(code: DataErrorCode, message: string, file?: string) {
    super(code, message);
    if (file !== undefined) this.file = file;
  }
}

export function isDataError(err: unknown, code?: DataErrorCode): err is DataError {
  return err instanceof DataError && (code === undefined || err.code === code);
}

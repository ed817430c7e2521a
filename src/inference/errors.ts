// PredictError: why one input could not be classified. The code is stable for callers to
// switch on; the message names the file and what was expected.
import { CodedError } from '../errors/codedError.js';

export type PredictErrorCode =
  | 'IMAGE_UNREADABLE'
  | 'IMAGE_FORMAT'
  | 'IMAGE_CORRUPT'
  | 'IMAGE_TOO_LARGE'
  | 'IMAGE_BLANK'
  | 'IDX_LABELS'
  | 'MODEL_INPUT';

export class PredictError extends CodedError<PredictErrorCode> {
  constructor(
    code: PredictErrorCode,
    message: string,
    readonly file?: string,
  ) {
    super(code, message);
  }
}

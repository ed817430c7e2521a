import { CodedError } from '../errors/codedError.js';

export type TensorBoardErrorCode = 'TENSORBOARD_BAD_VALUE';

export class TensorBoardError extends CodedError<TensorBoardErrorCode> {}

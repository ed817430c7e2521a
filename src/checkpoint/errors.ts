// Errors of checkpoint save/load: a code to branch on and a message naming the directory or
// file and what was wrong with it.
import { CodedError } from '../errors/codedError.js';

export type CheckpointErrorCode =
  /** Neither a run directory with checkpoints/ nor a checkpoint directory was found. */
  | 'CKPT_NOT_FOUND'
  /** A checkpoint's files disagree with its manifest, or cannot be parsed. */
  | 'CKPT_CORRUPT'
  /** A run directory holds no checkpoint that passes verification. */
  | 'CKPT_NO_VALID'
  /** saveCheckpoint was called with a state or option it cannot write. */
  | 'CKPT_INVALID_ARGUMENT'
  /** saveCheckpoint was given a tensor holding NaN or Infinity; nothing was written. */
  | 'CKPT_NON_FINITE'
  /** A checkpoint verifies but holds values a run cannot continue from (non-finite, a negative variance). */
  | 'CKPT_NOT_SANE';

export class CheckpointError extends CodedError<CheckpointErrorCode> {}

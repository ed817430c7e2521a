// The relay's errors: a code to branch on and a sentence naming what was wrong and what to do.
import { CodedError } from '../errors/codedError.js';

export type RelayErrorCode =
  /** After a reconnect the coordinator runs another config or model than the relay's workers joined. */
  | 'RUN_CHANGED'
  /** The welcome's weights do not fit its own variable sets. */
  | 'WELCOME_MISMATCH'
  /** A step or weights message came before the welcome. */
  | 'OUT_OF_ORDER'
  /** A step names another weights version than the relay holds. */
  | 'STEP_REFUSED'
  /** Fewer examples came back from the local workers than the step sent (one left, timed out or was refused). */
  | 'PART_INCOMPLETE';

export class RelayError extends CodedError<RelayErrorCode> {}

// The remote worker's errors: a code to branch on and a sentence naming the message, field, step
// or coordinator and what was wrong. An error while handling one message is reported to the
// coordinator (as WORKER_FAILED, with this sentence) and logged; NO_COORDINATOR ends the process.
import { CodedError } from '../errors/codedError.js';

export type WorkerErrorCode =
  /** The coordinator could not be reached for longer than --connect-timeout. */
  | 'NO_COORDINATOR'
  /** The connection closed after it opened but before the welcome. */
  | 'HANDSHAKE_CLOSED'
  /** The welcome's config, variable names or weights do not fit this worker's model. */
  | 'WELCOME_MISMATCH'
  /** A step names another weights version, too many examples, or examples this worker does not have. */
  | 'STEP_REFUSED'
  /** A step or weights message came before the welcome. */
  | 'OUT_OF_ORDER';

export class WorkerError extends CodedError<WorkerErrorCode> {}

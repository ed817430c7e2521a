// The coordinator's errors: a code to branch on and a sentence naming the worker, step, port or
// option and what to do. A part lost by one worker is logged and the step goes on without it; the
// others stop the run and are printed by the CLI with their code.
import { CodedError } from '../errors/codedError.js';

export type CoordinatorErrorCode =
  /** A worker sent NaN or Infinity and the run was started with --on-nan stop. */
  | 'NON_FINITE_STOP'
  /** A worker could not deliver its part of a step (it left, stalled, or was busy). */
  | 'PART_LOST'
  /** The port asked for (--port) is taken by another process. */
  | 'PORT_IN_USE'
  /** The coordinator's server could not listen for another reason (permission, address). */
  | 'LISTEN_FAILED'
  /** Fewer workers joined than the run needs within its wait. */
  | 'WORKERS_MISSING'
  /** A component was built with options that cannot work together (a bug in the caller). */
  | 'INVALID_OPTIONS';

export class CoordinatorError extends CodedError<CoordinatorErrorCode> {}

/** The run stops: a worker's contribution held NaN or Infinity under --on-nan stop. */
export class RunStoppedError extends CoordinatorError {
  constructor(message: string) {
    super('NON_FINITE_STOP', message);
  }
}

/** Why a worker lost its part of a step; the source logs it and goes on without that part. */
export class PartLostError extends CoordinatorError {
  constructor(message: string) {
    super('PART_LOST', message);
  }
}

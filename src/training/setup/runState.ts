// state.json as the training set-up reads and writes it (schema: src/schemas/runState.ts). A
// checkpoint whose state fails here was written so (its checksums held): --resume refuses it
// with the file and the field rather than train from a state it cannot trust.
import { join } from 'node:path';
import { STATE_FILE } from '../../checkpoint/checkpoint.js';
import { CodedError } from '../../errors/codedError.js';
import { describeProblem } from '../../schemas/check.js';
import { runStateValidator, type RunState } from '../../schemas/runState.js';
import { trainConfigProblem } from './config.js';

export type { RunState } from '../../schemas/runState.js';

export class RunStateError extends CodedError<'RUN_STATE_INVALID'> {
  constructor(message: string) {
    super('RUN_STATE_INVALID', message);
  }
}

/** Checks a checkpoint's state.json (`state`, as loaded from `checkpointDir`) for resuming. */
export function readRunState(state: unknown, checkpointDir: string): RunState {
  const file = join(checkpointDir, STATE_FILE);
  const refuse = (what: string) => new RunStateError(`${file}: ${what}; this checkpoint cannot be resumed (start a new run, or resume an older checkpoint of this run)`);
  const problem = runStateValidator.problem(state);
  if (problem) throw refuse(describeProblem(problem));
  const valid = state as RunState;
  const configProblem = trainConfigProblem(valid.config);
  if (configProblem) throw refuse(configProblem.describe(`config.${configProblem.field}`));
  if (valid.step !== valid.position.globalStep) throw refuse(`step ${valid.step} differs from position.globalStep ${valid.position.globalStep}`);
  return valid;
}

// How commands end: a human summary on stdout, or with --json one JSON object as the last line;
// a failure as one error log line naming the process (`[worker local-0]`, `[coordinator]`).
import { describeError, isCodedError } from '../errors/codedError.js';
import { constants } from 'node:os';
import type { Logger } from '../log/logger.js';

const LOGGED = Symbol('dsdc-dist.logged');

/**
 * Runs a command's work so that a failure is written as one error line by `log`, with its
 * component (the worker id, coordinator), like every other line of that process; the CLI's
 * failure handler then only sets the exit code.
 */
export async function logFailure<T>(log: Logger, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    log.error(describeError(error));
    throw error instanceof Error ? Object.assign(error, { [LOGGED]: true }) : error;
  }
}

/** The exit code a command that failed with `error` ends with: the coded error's, else 1. */
export function exitCodeOf(error: unknown): number {
  return isCodedError(error) ? error.exitCode : 1;
}

/** Whether logFailure already wrote this error. */
export function alreadyLogged(error: unknown): boolean {
  return error instanceof Error && (error as Error & { [LOGGED]?: boolean })[LOGGED] === true;
}
export function printResult(json: boolean, summary: object, human: string): void {
  if (json) process.stdout.write(JSON.stringify(summary) + '\n');
  else process.stdout.write(human + '\n');
}

/** The shell's exit status of a process ended by a signal: 128 + its number (SIGINT 130, SIGTERM 143). */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}

/**
 * An AbortSignal that fires on the first SIGINT/SIGTERM (its reason names the signal); a second
 * one exits at once. A run stopped this way ends with 128 + the signal's number, as a shell
 * reports a process the signal ended: it did not finish, and a supervisor must not read it as done.
 */
export function stopSignal(onStop: (signal: string) => void): AbortSignal {
  const controller = new AbortController();
  const handler = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(signalExitCode(signal));
    onStop(signal);
    process.exitCode = signalExitCode(signal);
    controller.abort(new Error(signal));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return controller.signal;
}

/**
 * Exits at once on SIGINT/SIGTERM with 128 + the signal's number, for a process with nothing to
 * save (a distributed worker). Said explicitly because as PID 1 of a container (a Kubernetes pod,
 * `docker run` without --init) the kernel ignores the signals a process does not handle, and the
 * pod would wait out its grace period to be killed with 137.
 */
export function leaveOnSignal(onSignal: (signal: string) => void): void {
  const handler = (signal: NodeJS.Signals) => {
    onSignal(signal);
    process.exit(signalExitCode(signal));
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
}

// The one error type of dsdc-dist: a stable code to branch on and a sentence a user can act on
// (it names the file, flag, worker or field, what was expected and what came). Every module's
// errors extend it, so the CLI prints them one way and tests match codes, not wording.

export interface CodedErrorOptions {
  cause?: unknown;
  /** The process exit code a CLI command should end with when this error stops it (default 1). */
  exitCode?: number;
}

export class CodedError<Code extends string = string> extends Error {
  readonly exitCode: number;
  constructor(
    readonly code: Code,
    message: string,
    options: CodedErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = options.exitCode ?? 1;
  }
}

export function isCodedError(error: unknown): error is CodedError {
  return error instanceof CodedError;
}

/** The one line the CLI prints for an error that stops a command. */
export function describeError(error: unknown): string {
  if (isCodedError(error)) return `${error.message} [${error.code}]`;
  if (error instanceof Error) return error.message;
  return String(error);
}

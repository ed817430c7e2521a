// A checkpoint write that fails on the file system (permissions, a full disk, an immutable or
// read-only directory) is retried with backoff while the run holds its state in memory; a stop
// request gets one more try at once. When no try succeeds, the error says where, why (the errno
// code) and which checkpoint on disk is the last good one, and carries the checkpoint-failure
// exit code so that a supervisor restarts the run (--resume) once the disk is fixed.
import { join } from 'node:path';
import { CodedError } from '../errors/codedError.js';
import { checkpointName, checkpointsRoot, readLatest } from './runDir.js';

/** EX_IOERR of sysexits.h: an input/output error; not 0, 1 (usage) or 2 (refused worker). */
export const CHECKPOINT_FAILURE_EXIT_CODE = 74;
export const DEFAULT_CHECKPOINT_RETRY_MS = 300_000;
export const CHECKPOINT_RETRY_INITIAL_MS = 1_000;
export const CHECKPOINT_RETRY_MAX_DELAY_MS = 30_000;

const ERRNO_TEXT: Readonly<Record<string, string>> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted (an immutable file or directory?)',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EIO: 'input/output error',
  ENOENT: 'no such file or directory (was the run directory removed?)',
  ENOTDIR: 'a path component is not a directory',
  EMFILE: 'too many open files',
};

export class CheckpointWriteError extends CodedError<'CKPT_WRITE_FAILED'> {
  constructor(message: string, cause: unknown) {
    super('CKPT_WRITE_FAILED', message, { cause, exitCode: CHECKPOINT_FAILURE_EXIT_CODE });
  }
}

export interface RetryingSaveOptions {
  runDir: string;
  /** The step the checkpoint is of (its name), for the messages. */
  step: number;
  /** How long to keep trying (ms). */
  retryForMs?: number;
  stop?: AbortSignal;
  warn: (message: string) => void;
  info: (message: string) => void;
}

function errnoOf(error: unknown): NodeJS.ErrnoException | undefined {
  const e = error as NodeJS.ErrnoException;
  return e instanceof Error && typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code) ? e : undefined;
}

/** `EACCES (permission denied) at mkdir '/run/checkpoints/.tmp-…'`. */
export function describeFsError(error: NodeJS.ErrnoException): string {
  const what = ERRNO_TEXT[error.code!] ?? error.message;
  const where = error.syscall ? ` at ${error.syscall}${error.path ? ` '${error.path}'` : ''}` : '';
  return `${error.code} (${what})${where}`;
}

/** Resolves after `ms`, or at once when `stop` fires. */
function pause(ms: number, stop?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (stop?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      stop?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    stop?.addEventListener('abort', done, { once: true });
  });
}

async function lastGood(runDir: string): Promise<string> {
  const latest = await readLatest(runDir).catch(() => undefined);
  return latest === undefined
    ? 'no checkpoint of this run is on disk yet'
    : `the last good checkpoint is ${join(checkpointsRoot(runDir), latest)}`;
}

/** Runs `save` until it succeeds; errors that are not the file system's are thrown at once. */
export async function saveWithRetry(save: () => Promise<string>, o: RetryingSaveOptions): Promise<string> {
  const retryForMs = o.retryForMs ?? DEFAULT_CHECKPOINT_RETRY_MS;
  const target = join(checkpointsRoot(o.runDir), checkpointName(o.step));
  const started = Date.now();
  let delay = CHECKPOINT_RETRY_INITIAL_MS;
  let attempts = 0;
  let stopSeen = o.stop?.aborted ?? false;
  for (;;) {
    attempts++;
    try {
      const dir = await save();
      if (attempts > 1) o.info(`wrote checkpoint ${dir} at attempt ${attempts}; training goes on`);
      return dir;
    } catch (error) {
      const fsError = errnoOf(error);
      if (!fsError) throw error;
      const cause = describeFsError(fsError);
      const elapsed = Date.now() - started;
      // A stop request that came before this failure has had its one more try.
      const giveUp = stopSeen || elapsed >= retryForMs;
      if (giveUp) {
        const why = stopSeen ? 'the run was asked to stop' : `--checkpoint-retry ${Math.round(retryForMs / 1000)} s is over`;
        throw new CheckpointWriteError(
          `cannot write checkpoint ${target}: ${cause}; tried ${attempts} time(s) over ${Math.round(elapsed / 1000)} s and ${why}. ` +
            `${await lastGood(o.runDir)}; the steps after it are lost when this process exits. ` +
            `Fix the disk (permissions, free space) and continue with --resume --run-dir ${o.runDir}`,
          error,
        );
      }
      const wait = Math.min(delay, retryForMs - elapsed);
      o.warn(
        `cannot write checkpoint ${target}: ${cause}; the run holds its state in memory and tries again in ${(wait / 1000).toFixed(1)} s ` +
          `(attempt ${attempts}; gives up after ${Math.round(retryForMs / 1000)} s; ${await lastGood(o.runDir)})`,
      );
      await pause(wait, o.stop);
      delay = Math.min(2 * delay, CHECKPOINT_RETRY_MAX_DELAY_MS);
      if (o.stop?.aborted && !stopSeen) {
        stopSeen = true;
        o.warn(`stop requested: one more try at checkpoint ${target}`);
      }
    }
  }
}

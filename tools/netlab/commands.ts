// The one place netlab runs system tools (ip, tc): async for normal work, sync for the exit
// handler (no event loop left there). A failed command becomes a NetLabError naming the command
// line and what the tool printed.
import { execFile, execFileSync } from 'node:child_process';
import { CodedError } from '../../src/errors/codedError.js';

export class NetLabError extends CodedError<'NETLAB_COMMAND' | 'NETLAB_UNSUPPORTED' | 'NETLAB_BAD_INPUT' | 'NETLAB_STATE'> {}

const COMMAND_TIMEOUT_MS = 20_000;

export function run(tool: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(tool, args, { timeout: COMMAND_TIMEOUT_MS, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) {
        reject(new NetLabError('NETLAB_COMMAND', `\`${tool} ${args.join(' ')}\` failed: ${(stderr || error.message).trim()}`, { cause: error }));
      } else {
        resolve(stdout);
      }
    });
  });
}

/** Like run, for cleanup: a failure is returned, never thrown (the object may already be gone). */
export async function tryRun(tool: string, args: string[]): Promise<string | undefined> {
  try {
    return await run(tool, args);
  } catch {
    return undefined;
  }
}

export function tryRunSync(tool: string, args: string[]): string | undefined {
  try {
    return execFileSync(tool, args, { timeout: COMMAND_TIMEOUT_MS, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined;
  }
}

/** `ip -n NS ...`: a command inside a namespace. */
export function ipIn(namespace: string, args: string[]): Promise<string> {
  return run('ip', ['-n', namespace, ...args]);
}

/** `tc -n NS ...` */
export function tcIn(namespace: string, args: string[]): Promise<string> {
  return run('tc', ['-n', namespace, ...args]);
}

// Runs the repository's own pm2 (npx --no-install) against a private PM2_HOME, so a test never
// touches a user's pm2 daemon.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { REPO_ROOT } from './cli.js';

const run = promisify(execFile);

export const PM2_COMMAND_TIMEOUT_MS = 60_000;

export function pm2Runner(pm2Home: string) {
  return async (args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> => {
    const { stdout } = await run('npx', ['--no-install', 'pm2', ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, PM2_HOME: pm2Home, ...env },
      timeout: PM2_COMMAND_TIMEOUT_MS,
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout;
  };
}

// ecosystem.config.js reads its settings from the environment when pm2 loads it; a fresh node
// process per case loads it the same way.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/cli.js';

function coordinatorArgs(env: NodeJS.ProcessEnv): string {
  const script = "import('./ecosystem.config.js').then((m) => process.stdout.write(m.apps[0].args))";
  return execFileSync(process.execPath, ['-e', script], { cwd: REPO_ROOT, env: { ...process.env, DSDC_ARGS: '', ...env } }).toString();
}

describe('ecosystem.config.js coordinator arguments', () => {
  it('passes the environment settings and --resume by default', () => {
    expect(coordinatorArgs({ DSDC_WORKERS: '3', DSDC_PORT: '7111', DSDC_RUN_DIR: 'runs/x', DSDC_BACKEND: 'wasm' })).toBe(
      'coordinator --workers 3 --port 7111 --run-dir runs/x --resume --backend wasm',
    );
  });

  it('leaves out a flag that DSDC_ARGS gives itself, so no flag is given twice', () => {
    const args = coordinatorArgs({ DSDC_WORKERS: '2', DSDC_RUN_DIR: 'runs/pm2', DSDC_BACKEND: 'auto', DSDC_ARGS: '--epochs 3 --backend wasm --no-resume --port=7200' });
    expect(args).toBe('coordinator --workers 2 --run-dir runs/pm2 --epochs 3 --backend wasm --no-resume --port=7200');
    for (const flag of ['--backend', '--port', 'resume']) expect(args.split(flag).length - 1).toBe(1);
  });
});

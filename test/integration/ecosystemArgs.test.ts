// ecosystem.config.js reads its settings from the environment when pm2 loads it; a fresh node
// process per case loads it the same way.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, tempDir } from '../helpers/cli.js';
import { SINGLE_THREADED_GC_FLAG, workerNodeFlags } from '../../src/launcher/workerNodeFlags.js';

function appArgs(env: NodeJS.ProcessEnv): string[] {
  const script = "import('./ecosystem.config.js').then((m) => process.stdout.write(JSON.stringify(m.apps.map((a) => a.args))))";
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: REPO_ROOT, env: { ...process.env, DSDC_ARGS: '', DSDC_TOKEN: 'a-token-from-the-environment', ...env } }).toString());
}

function workerNodeArgs(env: NodeJS.ProcessEnv): string[] {
  const script = "import('./ecosystem.config.js').then((m) => process.stdout.write(JSON.stringify(m.apps[1].node_args)))";
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: REPO_ROOT, env: { ...process.env, DSDC_TOKEN: 'a-token', ...env } }).toString());
}

function coordinatorArgs(env: NodeJS.ProcessEnv): string {
  return appArgs(env)[0];
}

describe('ecosystem.config.js coordinator arguments', () => {
  it('without DSDC_TOKEN makes a random token in the run directory, mode 0600, kept across loads, and gives both apps --token-file', () => {
    const runDir = tempDir('pm2-token');
    const [coordinator, worker] = appArgs({ DSDC_RUN_DIR: runDir, DSDC_TOKEN: '' });
    const file = join(runDir, 'token');
    expect(coordinator).toContain(`--token-file ${file}`);
    expect(worker).toContain(`--token-file ${file}`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const token = readFileSync(file, 'utf8').trim();
    expect(token).toMatch(/^[0-9a-f]{48}$/);
    appArgs({ DSDC_RUN_DIR: runDir, DSDC_TOKEN: '' });
    expect(readFileSync(file, 'utf8').trim()).toBe(token);
  });

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

describe('ecosystem.config.js worker node flags', () => {
  it('are the ones train --workers N gives its workers, for few and for many workers', () => {
    for (const workers of [1, 2, 256]) expect(workerNodeArgs({ DSDC_WORKERS: String(workers) }), `${workers} workers`).toEqual(workerNodeFlags(workers));
    expect(workerNodeFlags(256)).toEqual([SINGLE_THREADED_GC_FLAG]);
  });

  it('single-threaded garbage collection only where the workers and the coordinator take every core', () => {
    expect(workerNodeFlags(2, 2)).toEqual([SINGLE_THREADED_GC_FLAG]);
    expect(workerNodeFlags(3, 4)).toEqual([]);
    expect(workerNodeFlags(4, 4)).toEqual([SINGLE_THREADED_GC_FLAG]);
    expect(workerNodeFlags(1, 16)).toEqual([]);
  });
});

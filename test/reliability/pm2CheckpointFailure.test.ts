// The pm2 flow through a storage fault, for real: `npx pm2 start ecosystem.config.js`, then the
// run's checkpoints/ stops taking writes. The coordinator retries, then exits with the
// checkpoint-failure code (74) and its bye tells the worker the run stopped; the worker exits 75,
// so pm2 (stop_exit_codes [0]) restarts both; the restarted coordinator resumes from the last
// good checkpoint and, once the directory is writable again, the run finishes and everyone exits
// 0 and stays down. pm2 runs in a private PM2_HOME, deleted and killed at the end.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CHECKPOINT_FAILURE_EXIT_CODE } from '../../src/checkpoint/retryingSave.js';
import { WORKER_RUN_STOPPED_EXIT_CODE } from '../../src/worker/exitCodes.js';
import { tempDir } from '../helpers/cli.js';
import { makeUnwritable } from '../helpers/faults.js';
import { freePort } from '../helpers/net.js';
import { PM2_COMMAND_TIMEOUT_MS, pm2Runner } from '../helpers/pm2.js';
import { waitFor } from '../observability/waitFor.js';

const STEPS = 24;
const RUN_TIMEOUT_MS = 180_000;

interface Pm2Process {
  name: string;
  pid: number;
  pm2_env: { status: string; exit_code?: number; restart_time: number; pm_out_log_path: string; pm_err_log_path: string };
}

describe('pm2 through a checkpoint failure and its recovery', () => {
  const pm2Home = tempDir('pm2-ckpt-home');
  const runRoot = tempDir('pm2-ckpt-run');
  const runDir = join(runRoot, 'run');
  const pm2 = pm2Runner(pm2Home);
  let undo: (() => void) | undefined;

  const processes = async (): Promise<Pm2Process[]> => JSON.parse(await pm2(['jlist'])) as Pm2Process[];
  const logOf = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : '');

  afterAll(async () => {
    undo?.();
    await pm2(['delete', 'all']).catch(() => undefined);
    await pm2(['kill']).catch(() => undefined);
    for (const dir of [pm2Home, runRoot]) rmSync(dir, { recursive: true, force: true });
  }, 2 * PM2_COMMAND_TIMEOUT_MS);

  it('the coordinator exits 74, the worker 75, pm2 restarts both, and the run finishes from the last good checkpoint once the disk is fixed', async () => {
    await pm2(['start', 'ecosystem.config.js'], {
      DSDC_WORKERS: '1',
      DSDC_PORT: String(await freePort()),
      DSDC_RUN_DIR: runDir,
      DSDC_BACKEND: 'wasm',
      DSDC_ARGS: `--train-limit 512 --test-limit 100 --batch-size 32 --max-steps ${STEPS} --checkpoint-every 4 --checkpoint-retry 1 --no-eval --log-level info --json`,
    });
    const started = await processes();
    const coordinator = started.find((p) => p.name === 'dsdc-coordinator')!.pm2_env;
    const worker = started.find((p) => p.name === 'dsdc-worker')!.pm2_env;

    await waitFor(() => existsSync(join(runDir, 'checkpoints', 'LATEST')), RUN_TIMEOUT_MS, 'the first checkpoint');
    undo = makeUnwritable(join(runDir, 'checkpoints'));

    const failure = await waitFor(
      () => logOf(coordinator.pm_err_log_path).match(/cannot write checkpoint .*; tried \d+ time\(s\).*the last good checkpoint is (\S+?step-\d+)/)?.[1],
      RUN_TIMEOUT_MS,
      'the checkpoint failure in the coordinator log',
    );
    expect(failure).toMatch(/step-0*4$|step-0*8$|step-0*12$/);
    await waitFor(() => /coordinator stopped the run before its end \(run stopped: cannot write checkpoint/.test(logOf(worker.pm_err_log_path)), RUN_TIMEOUT_MS, "the worker's exit on the bye");
    const restarted = await waitFor(
      async () => {
        const list = await processes();
        return list.every((p) => p.pm2_env.restart_time >= 1) && list;
      },
      RUN_TIMEOUT_MS,
      'pm2 to restart the coordinator and the worker',
    );
    expect(restarted.map((p) => p.pm2_env.restart_time).every((n) => n >= 1)).toBe(true);
    expect(logOf(worker.pm_err_log_path)).toContain(`exiting with code ${WORKER_RUN_STOPPED_EXIT_CODE}`);
    // pm2's own log of what each process exited with.
    const daemonLog = logOf(join(pm2Home, 'pm2.log'));
    expect(daemonLog).toMatch(new RegExp(`dsdc-coordinator:\\d+\\] exited with code \\[${CHECKPOINT_FAILURE_EXIT_CODE}\\]`));
    expect(daemonLog).toMatch(new RegExp(`dsdc-worker:\\d+\\] exited with code \\[${WORKER_RUN_STOPPED_EXIT_CODE}\\]`));

    undo();
    undo = undefined;
    const summary = await waitFor(
      () => {
        const last = logOf(coordinator.pm_out_log_path).trim().split('\n').pop() ?? '';
        const brace = last.indexOf('{');
        if (brace < 0) return undefined;
        try {
          return JSON.parse(last.slice(brace)) as Record<string, unknown>;
        } catch {
          return undefined;
        }
      },
      RUN_TIMEOUT_MS,
      'the JSON summary after the recovery',
    );
    expect(summary).toMatchObject({ steps: STEPS, interrupted: false });
    expect(logOf(coordinator.pm_err_log_path)).toMatch(/resuming from .*step-\d+ at step \d+/);
    expect(readFileSync(join(runDir, 'checkpoints', 'LATEST'), 'utf8').trim()).toBe(`step-${String(STEPS).padStart(10, '0')}`);

    const ended = await waitFor(
      async () => {
        const list = await processes();
        return list.every((p) => p.pm2_env.exit_code !== undefined && !['online', 'launching'].includes(p.pm2_env.status)) && list;
      },
      RUN_TIMEOUT_MS,
      'the coordinator and the worker to exit after the run',
    );
    for (const p of ended) {
      expect(p.pm2_env.exit_code, `${p.name} exit code`).toBe(0);
      expect(p.pid, `${p.name} is not waiting for a restart`).toBe(0);
    }
  }, 4 * RUN_TIMEOUT_MS);
});

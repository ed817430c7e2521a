// The pm2 flow of the README, for real: `npx pm2 start ecosystem.config.js` with the settings in
// the environment starts the coordinator and DSDC_WORKERS workers; the run finishes, writes a
// checkpoint and its JSON summary, and nobody is restarted after a clean finish. The pm2 daemon
// lives in a temporary PM2_HOME (never the user's ~/.pm2) and is deleted and killed at the end,
// whatever happened.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/net.js';
import { PM2_COMMAND_TIMEOUT_MS, pm2Runner } from '../helpers/pm2.js';
import { tempDir } from '../helpers/cli.js';
import { waitFor } from '../observability/waitFor.js';

const WORKERS = 2;
const STEPS = 4;
const RUN_TIMEOUT_MS = 150_000;

interface Pm2Process {
  name: string;
  pid: number;
  pm2_env: { status: string; exit_code?: number; restart_time: number; pm_out_log_path: string };
}

describe('npx pm2 start ecosystem.config.js', () => {
  const pm2Home = tempDir('pm2-home');
  const runRoot = tempDir('pm2-run');
  const runDir = join(runRoot, 'run');

  const pm2 = pm2Runner(pm2Home);

  async function processes(): Promise<Pm2Process[]> {
    return JSON.parse(await pm2(['jlist'])) as Pm2Process[];
  }

  afterAll(async () => {
    // Each step on its own: a failed delete must not keep the daemon alive.
    await pm2(['delete', 'all']).catch(() => undefined);
    await pm2(['kill']).catch(() => undefined);
    for (const dir of [pm2Home, runRoot]) rmSync(dir, { recursive: true, force: true });
  }, 2 * PM2_COMMAND_TIMEOUT_MS);

  it('runs a short distributed run to its end, writes a checkpoint and the JSON summary, and restarts nobody', async () => {
    await pm2(['start', 'ecosystem.config.js'], {
      DSDC_WORKERS: String(WORKERS),
      DSDC_PORT: String(await freePort()),
      DSDC_RUN_DIR: runDir,
      // The backend goes in DSDC_BACKEND: the file passes --backend itself, to the workers too.
      DSDC_BACKEND: 'wasm',
      DSDC_ARGS: `--train-limit 300 --test-limit 100 --max-steps ${STEPS} --batch-size 32 --log-level warn --json`,
    });
    const started = await processes();
    expect(started.map((p) => p.name).sort()).toEqual(['dsdc-coordinator', ...Array(WORKERS).fill('dsdc-worker')]);
    const coordinatorLog = started.find((p) => p.name === 'dsdc-coordinator')!.pm2_env.pm_out_log_path;

    // With --json the coordinator's last stdout line is the summary; pm2 prefixes a timestamp.
    const summary = await waitFor(
      () => {
        if (!existsSync(coordinatorLog)) return undefined;
        const last = readFileSync(coordinatorLog, 'utf8').trim().split('\n').pop() ?? '';
        const brace = last.indexOf('{');
        if (brace < 0) return undefined;
        try {
          return JSON.parse(last.slice(brace)) as Record<string, unknown>;
        } catch {
          return undefined;
        }
      },
      RUN_TIMEOUT_MS,
      `the JSON summary in ${coordinatorLog}`,
    );
    expect(summary).toMatchObject({ steps: STEPS, workers: WORKERS, backend: 'wasm', interrupted: false });
    expect(summary.test_accuracy).toEqual(expect.any(Number));

    const checkpoint = summary.checkpoint as string;
    expect(checkpoint.startsWith(join(runDir, 'checkpoints'))).toBe(true);
    expect(readFileSync(join(runDir, 'checkpoints', 'LATEST'), 'utf8').trim()).toBe('step-0000000004');
    for (const file of ['model.json', 'weights.bin', 'optimizer.bin', 'state.json', 'manifest.json']) {
      expect(existsSync(join(checkpoint, file)), file).toBe(true);
    }
    const state = JSON.parse(readFileSync(join(checkpoint, 'state.json'), 'utf8'));
    expect(state.position.globalStep).toBe(STEPS);
    const steps = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
      .filter((r) => r.type === 'step');
    expect(steps.map((r) => r.workers)).toEqual(Array(STEPS).fill(WORKERS));

    // Every process ends with exit code 0 and, as 0 is in stop_exit_codes, pm2 lets it stay down:
    // it clears the pid of a process it will not restart (a restarting one keeps its old pid until
    // the restart_delay is over).
    const ended = await waitFor(
      async () => {
        const list = await processes();
        return list.every((p) => p.pm2_env.exit_code !== undefined && !['online', 'launching'].includes(p.pm2_env.status)) && list;
      },
      RUN_TIMEOUT_MS,
      'the coordinator and the workers to exit',
    );
    for (const p of ended) {
      expect(p.pm2_env.exit_code, `${p.name} exit code`).toBe(0);
      expect(p.pid, `${p.name} is not waiting for a restart`).toBe(0);
      expect(p.pm2_env.restart_time, `${p.name} restarts`).toBe(0);
    }
  }, RUN_TIMEOUT_MS + 2 * PM2_COMMAND_TIMEOUT_MS);
});

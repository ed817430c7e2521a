// The pm2 form of fine-tuning: DSDC_COMMAND=finetune makes ecosystem.config.js run the
// coordinator as `finetune --no-launch-workers`, with --from and --freeze in DSDC_ARGS and the
// workers as pm2's own processes. The daemon lives in a temporary PM2_HOME and is killed at the end.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCheckpointWeights } from '../helpers/checkpointWeights.js';
import { freePort } from '../helpers/net.js';
import { PM2_COMMAND_TIMEOUT_MS, pm2Runner } from '../helpers/pm2.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { waitFor } from '../observability/waitFor.js';

const WORKERS = 2;
const STEPS = 3;
const RUN_TIMEOUT_MS = 150_000;
const DATA = '--train-limit 300 --test-limit 100 --batch-size 32';

describe('DSDC_COMMAND=finetune npx pm2 start ecosystem.config.js', () => {
  const pm2Home = tempDir('pm2-ft-home');
  const runRoot = tempDir('pm2-ft-run');

  const pm2 = pm2Runner(pm2Home);

  afterAll(async () => {
    await pm2(['delete', 'all']).catch(() => undefined);
    await pm2(['kill']).catch(() => undefined);
    for (const dir of [pm2Home, runRoot]) rmSync(dir, { recursive: true, force: true });
  }, 2 * PM2_COMMAND_TIMEOUT_MS);

  it('fine-tunes a checkpoint with pm2-managed workers and leaves the frozen weights as they were', async () => {
    const pretrained = await runCli(['worker', '--standalone', '--backend', 'wasm', ...DATA.split(' '), '--max-steps', '2', '--no-eval', '--run-dir', join(runRoot, 'base'), '--json', '--log-level', 'warn']);
    expect(pretrained.code, pretrained.stderr.slice(-2000)).toBe(0);
    const runDir = join(runRoot, 'tuned');
    await pm2(['start', 'ecosystem.config.js'], {
      DSDC_COMMAND: 'finetune',
      DSDC_WORKERS: String(WORKERS),
      DSDC_PORT: String(await freePort()),
      DSDC_RUN_DIR: runDir,
      DSDC_BACKEND: 'wasm',
      DSDC_ARGS: `--from ${join(runRoot, 'base')} --freeze all-but-last:1 ${DATA} --max-steps ${STEPS} --log-level warn --json`,
    });
    const coordinatorLog = (JSON.parse(await pm2(['jlist'])) as { name: string; pm2_env: { pm_out_log_path: string } }[]).find((p) => p.name === 'dsdc-coordinator')!.pm2_env.pm_out_log_path;
    const summary = await waitFor(
      () => {
        if (!existsSync(coordinatorLog)) return undefined;
        const last = readFileSync(coordinatorLog, 'utf8').trim().split('\n').pop() ?? '';
        const brace = last.indexOf('{');
        try {
          return brace < 0 ? undefined : (JSON.parse(last.slice(brace)) as Record<string, unknown>);
        } catch {
          return undefined;
        }
      },
      RUN_TIMEOUT_MS,
      `the JSON summary in ${coordinatorLog}`,
    );
    expect(summary).toMatchObject({ steps: STEPS, workers: WORKERS, interrupted: false });
    const state = JSON.parse(readFileSync(join(summary.checkpoint as string, 'state.json'), 'utf8'));
    expect(state.config.finetune).toMatchObject({ freeze: 'all-but-last:1', newHead: false });
    const before = readCheckpointWeights(pretrained.json!.checkpoint as string);
    const after = readCheckpointWeights(summary.checkpoint as string);
    expect(after.get('sdc4/pointwise_kernel')).toEqual(before.get('sdc4/pointwise_kernel'));
    expect(after.get('head/kernel')).not.toEqual(before.get('head/kernel'));
  }, RUN_TIMEOUT_MS + 3 * PM2_COMMAND_TIMEOUT_MS);
});

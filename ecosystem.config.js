// pm2 process file: `npx pm2 start ecosystem.config.js` starts the coordinator and
// DSDC_WORKERS workers (default 2) on this machine, with logs and restarts.
// Settings come from the environment so the file itself never needs editing:
//   DSDC_WORKERS   number of worker processes (default 2)
//   DSDC_PORT      coordinator port (default 7070)
//   DSDC_RUN_DIR   run directory: checkpoints, metrics.jsonl (default runs/pm2)
//   DSDC_ARGS      extra training flags for the coordinator, e.g. "--epochs 3 --batch-size 128
//                  --wire-dtype bfloat16" (the workers take the wire dtype from the coordinator)
//   DSDC_BACKEND   tfjs backend for the workers (default auto)
//   DSDC_TOKEN     shared secret; without it a random one is made once in $DSDC_RUN_DIR/token
//                  (mode 0600, kept across restarts) and both the coordinator and the workers read it
//   DSDC_COMMAND   what the coordinator process runs: 'coordinator' (default, training from
//                  scratch) or 'finetune' (DSDC_ARGS then names the checkpoint and the freezing:
//                  DSDC_COMMAND=finetune DSDC_ARGS="--from runs/base --freeze all-but-last:2 --classes 5-9")
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';

const workers = Number(process.env.DSDC_WORKERS ?? 2);
const port = Number(process.env.DSDC_PORT ?? 7070);
const runDir = process.env.DSDC_RUN_DIR ?? 'runs/pm2';
const backend = process.env.DSDC_BACKEND ?? 'auto';
const extra = process.env.DSDC_ARGS ?? '';
const COMMANDS = {
  coordinator: 'coordinator',
  // The workers are pm2's own processes, so the fine-tune coordinator must not start any.
  finetune: 'finetune --no-launch-workers',
};
// Every run has a token. Without DSDC_TOKEN, the run directory holds one, readable by the user
// only, made on the first start (the same bytes as `openssl rand -hex 24`).
function runTokenFile() {
  if (process.env.DSDC_TOKEN) return undefined;
  const file = join(resolve(import.meta.dirname, runDir), 'token');
  if (!existsSync(file) || readFileSync(file, 'utf8').trim() === '') {
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, `${randomBytes(24).toString('hex')}\n`, { mode: 0o600 });
  }
  chmodSync(file, 0o600);
  return file;
}
const tokenFile = runTokenFile();
const tokenFlag = tokenFile ? ` --token-file ${tokenFile}` : '';

const command = COMMANDS[process.env.DSDC_COMMAND ?? 'coordinator'];
if (command === undefined) {
  throw new Error(`DSDC_COMMAND must be one of ${Object.keys(COMMANDS).join(', ')}, got '${process.env.DSDC_COMMAND}'`);
}

// The coordinator's flags from the environment, less any that DSDC_ARGS gives itself (the
// user's value wins; a flag given twice would be an error).
const named = (flag) => new RegExp(`(^|\\s)--(no-)?${flag}(=|\\s|$)`).test(extra);
const coordinatorFlags = [
  ['workers', workers],
  ['port', port],
  ['run-dir', runDir],
  ['resume'],
  ['backend', backend],
  ...(tokenFile ? [['token-file', tokenFile]] : []),
]
  .filter(([flag]) => !named(flag))
  .map(([flag, value]) => (value === undefined ? `--${flag}` : `--${flag} ${value}`))
  .join(' ');

const common = {
  script: 'bin/dsdc-dist.js',
  cwd: import.meta.dirname,
  interpreter: 'node',
  autorestart: true,
  // A clean finish (exit 0) is the end of the run, not a crash: do not start it again. Anything
  // else is started again: a coordinator that could not write a checkpoint (74) resumes from the
  // last good one, and a worker whose coordinator stopped the run (75) waits for it to be back.
  stop_exit_codes: [0],
  restart_delay: 2000,
  kill_timeout: 30000,
  time: true,
};

// pm2 reads `apps` from this module (a named export: pm2 require()s the file).
export const apps = [
  {
    ...common,
    name: 'dsdc-coordinator',
    // --resume continues from the newest checkpoint after a crash or a restart (a fine-tune run
    // starts from --from only while its run directory has no checkpoint of its own).
    args: `${command} ${coordinatorFlags} ${extra}`.trim(),
  },
  {
    ...common,
    name: 'dsdc-worker',
    instances: workers,
    exec_mode: 'fork',
    args: `worker --coordinator ws://127.0.0.1:${port} --backend ${backend}${tokenFlag}`,
    // As src/launcher/workerNodeFlags.ts gives `train --workers N` (a test holds them equal):
    // garbage collection on the main thread only, where the workers and the coordinator take
    // every core.
    node_args: workers + 1 > availableParallelism() ? ['--single-threaded-gc'] : [],
    env: { TF_FORCE_GPU_ALLOW_GROWTH: 'true' },
  },
];

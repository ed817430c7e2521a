// `npm run bench:transfer`: the transfer experiments of fine-tune mode, run for real with the CLI
// (coordinator + --workers local workers, wasm) and written to BENCHMARKS.md between the transfer
// markers (other sections are left as they are) and to bench/results/transfer.json.
//
//   MNIST 0-4 → 5-9      pretrain on digits 0-4; fine-tune on 5-9 (new head) with the articles'
//                        freezing (all-but-last:2), and head only; train from scratch on 5-9.
//   MNIST → Fashion-MNIST pretrain on MNIST; fine-tune on Fashion-MNIST (--new-head) the same
//                        way; train from scratch on Fashion-MNIST. Skipped when the Debian
//                        package dataset-fashion-mnist is not installed.
//
// Every run has the same number of steps and global batch, and its training set is cut to exactly
// one epoch of them (--train-limit steps × batch), so every cosine schedule runs to its end and
// the test set (all of it, of the run's classes) is evaluated once, at that end.
//
// Flags (npm run bench:transfer -- --flag value):
//   --steps N        optimizer steps per run (default 300)
//   --batch-size B   global batch (default 64)
//   --workers W      local worker processes per run (default 2)
//   --fashion-dir D  Fashion-MNIST IDX files (default /usr/share/datasets/fashion-mnist)
//   --no-write       print the section only
//   --out FILE       the Markdown file to update (default BENCHMARKS.md)
//   --json-out FILE  raw results (default bench/results/transfer.json)
//   --run-timeout S  seconds before one run is killed (default 1800)
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadAverage } from './machine.js';
import { renderTransferSection, spliceTransferSection, type Experiment, type RunRecord, type TransferReport } from './transferMarkdown.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(REPO_ROOT, 'bin', 'dsdc-dist.js');
const SCRATCH_LR = 3e-3;
const FINETUNE_LR = 1e-4;
/**
 * Batch-norm momentum of the runs that build a model (pretrain, from scratch); a fine-tune run
 * keeps its checkpoint's. With the default 0.99 the moving statistics of a few-hundred-step run
 * trail the fast-changing weights and test accuracy stays near chance (22% on digits 0-4 after
 * 300 steps at 98% training accuracy); 0.9 follows them (99.4% after 150 steps).
 */
const BN_MOMENTUM = 0.9;

const { values: flags } = parseArgs({
  options: {
    steps: { type: 'string', default: '300' },
    'batch-size': { type: 'string', default: '64' },
    workers: { type: 'string', default: '2' },
    'fashion-dir': { type: 'string', default: '/usr/share/datasets/fashion-mnist' },
    'no-write': { type: 'boolean', default: false },
    out: { type: 'string', default: 'BENCHMARKS.md' },
    'json-out': { type: 'string', default: 'bench/results/transfer.json' },
    'run-timeout': { type: 'string', default: '1800' },
  },
});

function positiveInt(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${flag} must be a positive integer, got '${text}'`);
  return value;
}

const steps = positiveInt('steps', flags.steps);
const batchSize = positiveInt('batch-size', flags['batch-size']);
const workers = positiveInt('workers', flags.workers);
const runTimeoutMs = 1000 * positiveInt('run-timeout', flags['run-timeout']);
const scratchRoot = mkdtempSync(path.join(os.tmpdir(), 'dsdc-transfer-'));
const common = ['--backend', 'wasm', '--batch-size', String(batchSize), '--max-steps', String(steps), '--epochs', '1', '--train-limit', String(steps * batchSize), '--log-level', 'warn', '--json'];

/** Runs the CLI with --json and returns its summary; throws with the tail of stderr if it fails. */
function cli(args: string[]): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), runTimeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const last = stdout.trim().split('\n').pop() ?? '';
      if (code === 0) {
        try {
          return resolve(JSON.parse(last));
        } catch {
          /* fall through */
        }
      }
      reject(new Error(`dsdc-dist ${args.join(' ')} ended with ${signal ?? `code ${code}`}:\n${stderr}`));
    });
  });
}

/** Trainable values of a checkpoint: every weight but moving statistics, outside frozen layers. */
function trainableValues(checkpoint: string): number {
  const model = JSON.parse(readFileSync(path.join(checkpoint, 'model.json'), 'utf8'));
  const state = JSON.parse(readFileSync(path.join(checkpoint, 'state.json'), 'utf8'));
  const frozen = new Set<string>(state.config?.frozenLayers ?? []);
  return (model.weightsManifest[0].weights as { name: string; shape: number[] }[])
    .filter((w) => !/moving_(mean|variance)$/.test(w.name) && !frozen.has(w.name.split('/')[0]))
    .reduce((sum, w) => sum + w.shape.reduce((a, b) => a * b, 1), 0);
}

async function record(label: string, kind: RunRecord['kind'], task: string, freeze: string, lr: number, args: string[]): Promise<RunRecord> {
  const runDir = path.join(scratchRoot, label.replace(/[^A-Za-z0-9]+/g, '-'));
  const command = ['dsdc-dist', ...args, ...common, '--run-dir', runDir];
  process.stderr.write(`transfer: ${label}: ${command.join(' ')}\n`);
  const summary = await cli([...args, ...common, '--run-dir', runDir]);
  const checkpoint = summary.checkpoint as string;
  const result: RunRecord = {
    label,
    kind,
    task,
    freeze,
    lr,
    steps: summary.steps as number,
    testAccuracy: summary.test_accuracy as number,
    macroF1: summary.macro_f1 as number,
    imagesPerSecond: summary.images_per_s as number,
    trainSeconds: ((summary.steps as number) * batchSize) / (summary.images_per_s as number),
    wallSeconds: summary.wall_s as number,
    bytesPerStep: summary.bytes_per_step as number,
    trainableValues: trainableValues(checkpoint),
    checkpoint,
    command: command.join(' '),
  };
  process.stderr.write(`transfer: ${label}: test accuracy ${(100 * result.testAccuracy).toFixed(2)}%, ${result.trainSeconds.toFixed(1)} s, ${result.bytesPerStep} bytes/step\n`);
  return result;
}

interface ExperimentPlan {
  title: string;
  source: { task: string; args: string[] };
  target: { task: string; args: string[] };
  /** Extra finetune flags (e.g. --new-head when the class count does not change). */
  finetuneArgs: string[];
}

async function runExperiment(plan: ExperimentPlan): Promise<Experiment> {
  const distributed = ['--workers', String(workers)];
  const building = [...distributed, '--bn-momentum', String(BN_MOMENTUM)];
  const pretrained = await record(`${plan.title}: pretrain on ${plan.source.task}`, 'pretrain', plan.source.task, 'none', SCRATCH_LR, ['train', ...building, ...plan.source.args]);
  const finetune = (freeze: string, lr: number) =>
    record(`${plan.title}: fine-tune ${freeze}, lr ${lr}`, 'finetune', plan.target.task, freeze, lr, [
      'finetune', '--from', pretrained.checkpoint, '--freeze', freeze, '--lr', String(lr), ...distributed, ...plan.target.args, ...plan.finetuneArgs,
    ]);
  const runs = [pretrained];
  runs.push(await record(`${plan.title}: from scratch`, 'scratch', plan.target.task, 'none', SCRATCH_LR, ['train', ...building, ...plan.target.args]));
  runs.push(await finetune('all-but-last:2', FINETUNE_LR));
  runs.push(await finetune('all-but-last:2', 10 * FINETUNE_LR));
  runs.push(await finetune('all-but-last:1', 10 * FINETUNE_LR));
  return { title: plan.title, source: plan.source.task, target: plan.target.task, runs };
}

const startedAt = new Date();
const loadAtStart = loadAverage();
const experiments: Experiment[] = [];
experiments.push(
  await runExperiment({
    title: 'MNIST 0-4 → 5-9',
    source: { task: 'MNIST digits 0-4', args: ['--classes', '0-4'] },
    target: { task: 'MNIST digits 5-9', args: ['--classes', '5-9'] },
    finetuneArgs: [],
  }),
);
const fashionDir = flags['fashion-dir'];
const skipped: string[] = [];
if (existsSync(fashionDir)) {
  experiments.push(
    await runExperiment({
      title: 'MNIST → Fashion-MNIST',
      source: { task: 'MNIST', args: [] },
      target: { task: 'Fashion-MNIST', args: ['--data-dir', fashionDir] },
      finetuneArgs: ['--new-head'],
    }),
  );
} else {
  skipped.push(`MNIST → Fashion-MNIST: ${fashionDir} not found (apt-get install dataset-fashion-mnist, or --fashion-dir)`);
}

const report: TransferReport = {
  command: `npm run bench:transfer -- ${shownArgs(process.argv.slice(2)).join(' ')}`.trim(),
  startedAt: startedAt.toISOString(),
  minutes: (Date.now() - startedAt.getTime()) / 60_000,
  steps,
  batchSize,
  workers,
  bnMomentum: BN_MOMENTUM,
  machine: {
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    loadAtStart,
    loadAtEnd: loadAverage(),
  },
  gitCommit: await gitCommit(),
  experiments,
  skipped,
};

const section = renderTransferSection(report);
process.stdout.write(`${section}\n`);
if (!flags['no-write']) {
  const out = path.resolve(REPO_ROOT, flags.out);
  writeFileSync(out, spliceTransferSection(existsSync(out) ? readFileSync(out, 'utf8') : undefined, section));
  const jsonOut = path.resolve(REPO_ROOT, flags['json-out']);
  mkdirSync(path.dirname(jsonOut), { recursive: true });
  writeFileSync(jsonOut, `${JSON.stringify(report, null, 2)}\n`);
  process.stderr.write(`transfer: wrote ${out} (transfer section) and ${jsonOut}\n`);
}

/** The flags that change what is measured (not where the results go). */
function shownArgs(args: string[]): string[] {
  const shown: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--out' || args[i] === '--json-out') i++;
    else if (!args[i].startsWith('--out=') && !args[i].startsWith('--json-out=') && args[i] !== '--no-write') shown.push(args[i]);
  }
  return shown;
}

/** The commit measured: $DSDC_GIT_COMMIT when running from an exported snapshot, else HEAD here. */
async function gitCommit(): Promise<string> {
  if (process.env.DSDC_GIT_COMMIT) return process.env.DSDC_GIT_COMMIT;
  return new Promise((resolve) => {
    const child = spawn('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', () => resolve(out.trim() || 'unknown'));
  });
}

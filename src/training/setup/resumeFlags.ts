// The two ways to misuse a run directory: starting a new run in one that holds a run (its
// metrics.jsonl would mix two runs and LATEST would point at the newcomer), and resuming with
// flags that the checkpoint's run config overrides without a word.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { listCheckpoints } from '../../checkpoint/checkpoint.js';
import { CodedError } from '../../errors/codedError.js';
import type { TrainConfig } from './config.js';
import { METRICS_FILE } from '../../schemas/metricsRecord.js';

export class RunDirInUseError extends CodedError<'RUN_DIR_IN_USE'> {
  constructor(message: string) {
    super('RUN_DIR_IN_USE', message);
  }
}

/** Refuses a new run in a directory that already holds checkpoints or metrics of one. */
export async function refuseRunDirReuse(runDir: string): Promise<void> {
  const checkpoints = await listCheckpoints(runDir);
  const metrics = join(runDir, METRICS_FILE);
  const hasMetrics = existsSync(metrics) && statSync(metrics).size > 0;
  if (checkpoints.length === 0 && !hasMetrics) return;
  const holds = [checkpoints.length > 0 ? `checkpoints up to step ${checkpoints[checkpoints.length - 1].step}` : '', hasMetrics ? METRICS_FILE : ''].filter(Boolean).join(' and ');
  throw new RunDirInUseError(`run directory ${runDir} already holds a run (${holds}); continue it with --resume --run-dir ${runDir}, or start a new run in another --run-dir`);
}

/** A resumed run takes these from the flags: they change how far it goes, not what it is. */
const APPLIED: ReadonlyArray<{ flag: string; key: keyof TrainConfig }> = [
  { flag: 'epochs', key: 'epochs' },
  { flag: 'max-steps', key: 'maxSteps' },
  { flag: 'checkpoint-every', key: 'checkpointEvery' },
];

/** Everything else is the checkpoint's: changing it mid-run would make another run. */
const KEPT: ReadonlyArray<{ flags: string[]; value: (c: TrainConfig) => unknown }> = [
  { flags: ['batch-size'], value: (c) => c.batchSize },
  { flags: ['learning-rate'], value: (c) => c.learningRate },
  { flags: ['schedule'], value: (c) => c.schedule },
  { flags: ['warmup-steps'], value: (c) => c.warmupSteps },
  { flags: ['seed'], value: (c) => c.seed },
  { flags: ['augment'], value: (c) => c.augmentShift },
  { flags: ['train-limit'], value: (c) => c.trainLimit },
  { flags: ['test-limit'], value: (c) => c.testLimit },
  { flags: ['data-dir'], value: (c) => c.dataDir ?? null },
  { flags: ['eval'], value: (c) => c.evaluate },
  { flags: ['val-split'], value: (c) => c.valSplit ?? 0 },
  { flags: ['save-best'], value: (c) => c.saveBest ?? null },
  { flags: ['early-stop'], value: (c) => c.earlyStop ?? 0 },
  { flags: ['classes'], value: (c) => c.classes ?? null },
  { flags: ['stem-filters'], value: (c) => c.model.stemFilters },
  { flags: ['widths', 'dilations', 'pool-after'], value: (c) => c.model.blocks },
  { flags: ['batch-norm'], value: (c) => c.model.batchNorm },
  { flags: ['bn-momentum'], value: (c) => c.model.bnMomentum },
  { flags: ['head-lr'], value: (c) => c.headLearningRate ?? null },
];

export interface ResumeExplanation {
  applied: string[];
  ignored: string[];
}

const shown = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));

/**
 * What a resume does with the flags the user gave (`given`, by flag name) that differ from the
 * checkpoint's config: applied ones and ignored ones, each as a phrase for the log.
 */
export function explainResume(saved: TrainConfig, requested: TrainConfig, given: ReadonlySet<string>): ResumeExplanation {
  const applied = APPLIED.filter(({ flag, key }) => given.has(flag) && shown(saved[key]) !== shown(requested[key])).map(
    ({ flag, key }) => `--${flag} ${shown(requested[key])} (the checkpoint's run had ${shown(saved[key])})`,
  );
  const ignored = KEPT.filter(({ flags, value }) => flags.some((f) => given.has(f)) && shown(value(saved)) !== shown(value(requested))).map(
    ({ flags, value }) => `--${flags.join('/--')} (the run keeps ${shown(value(saved))}, not ${shown(value(requested))})`,
  );
  return { applied, ignored };
}

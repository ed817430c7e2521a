// The run configuration as plain data with defaults (the reference recipe), and its check.
// Every training command builds one of these from its flags; the coordinator sends it to
// workers in the welcome message.
import { DEFAULT_MODEL_SPEC, type ModelSpec, validateModelSpec } from '../model/spec.js';
import { DEFAULT_NORM_BOUND } from '../numerics/gradientNormBound.js';
import { SCHEDULE_KINDS, type ScheduleKind } from './schedule.js';

export interface TrainConfig {
  epochs: number;
  /** Global batch: the examples of one optimizer step, summed over all workers. */
  batchSize: number;
  learningRate: number;
  schedule: ScheduleKind;
  warmupSteps: number;
  seed: number;
  /** Stop after this many optimizer steps in total (0 = run all epochs). */
  maxSteps: number;
  /** Random shift of up to this many pixels (0 = no augmentation). */
  augmentShift: number;
  /** Limit the training set to its first N examples (0 = all); for quick runs and tests. */
  trainLimit: number;
  /** Limit the test set to its first N examples (0 = all). */
  testLimit: number;
  dataDir?: string;
  checkpointEvery: number;
  /** Clip the averaged gradient to this global L2 norm before Adam (0 = no clipping). */
  maxGradNorm: number;
  /**
   * A worker's gradients whose norm exceeds this factor times the median of recently accepted
   * norms are refused (0 = no bound); distributed runs only.
   */
  gradNormBound: number;
  /** Evaluate on the test set at the end of every epoch (and at the end of the run). */
  evaluate: boolean;
  model: ModelSpec;
  /** Train and evaluate on these labels only, remapped to 0..K-1 in the order given (absent: all). */
  classes?: number[];
  /** Layers whose weights stay fixed (fine-tuning); a frozen batch norm runs in inference mode. */
  frozenLayers?: string[];
  /** Where a fine-tune run started from; for the record, training does not read it. */
  finetune?: FinetuneOrigin;
}

export interface FinetuneOrigin {
  /** The checkpoint the weights came from. */
  from: string;
  /** The --freeze spec as written. */
  freeze: string;
  /** True when the head was replaced by a freshly initialised one. */
  newHead: boolean;
}

export const DEFAULT_TRAIN_CONFIG: TrainConfig = {
  epochs: 15,
  batchSize: 128,
  learningRate: 3e-3,
  schedule: 'cosine',
  warmupSteps: 0,
  seed: 1,
  maxSteps: 0,
  augmentShift: 2,
  trainLimit: 0,
  testLimit: 0,
  checkpointEvery: 500,
  maxGradNorm: 0,
  gradNormBound: DEFAULT_NORM_BOUND.factor,
  evaluate: true,
  model: DEFAULT_MODEL_SPEC,
};

export function validateTrainConfig(config: TrainConfig): TrainConfig {
  const check = (ok: boolean, flag: string, expected: string, value: unknown) => {
    if (!ok) throw new Error(`--${flag} must be ${expected}, got ${JSON.stringify(value)}`);
  };
  const positiveInt = (v: number) => Number.isInteger(v) && v > 0;
  const nonNegativeInt = (v: number) => Number.isInteger(v) && v >= 0;
  check(positiveInt(config.epochs), 'epochs', 'a positive integer', config.epochs);
  check(positiveInt(config.batchSize), 'batch-size', 'a positive integer', config.batchSize);
  check(Number.isFinite(config.learningRate) && config.learningRate > 0, 'lr', 'a positive number', config.learningRate);
  check(SCHEDULE_KINDS.includes(config.schedule), 'schedule', `one of ${SCHEDULE_KINDS.join(', ')}`, config.schedule);
  check(nonNegativeInt(config.warmupSteps), 'warmup-steps', 'a non-negative integer', config.warmupSteps);
  check(Number.isInteger(config.seed), 'seed', 'an integer', config.seed);
  check(nonNegativeInt(config.maxSteps), 'max-steps', 'a non-negative integer', config.maxSteps);
  check(nonNegativeInt(config.augmentShift) && config.augmentShift <= 4, 'augment', 'an integer from 0 to 4 (pixels)', config.augmentShift);
  check(nonNegativeInt(config.trainLimit), 'train-limit', 'a non-negative integer', config.trainLimit);
  check(nonNegativeInt(config.testLimit), 'test-limit', 'a non-negative integer', config.testLimit);
  check(positiveInt(config.checkpointEvery), 'checkpoint-every', 'a positive integer', config.checkpointEvery);
  // Absent in checkpoints written before the flag existed: no clipping.
  check(config.maxGradNorm === undefined || (Number.isFinite(config.maxGradNorm) && config.maxGradNorm >= 0), 'max-grad-norm', 'a non-negative number (0: no clipping)', config.maxGradNorm);
  check(config.gradNormBound === undefined || config.gradNormBound === 0 || (Number.isFinite(config.gradNormBound) && config.gradNormBound > 1), 'grad-norm-bound', 'a factor above 1, or 0 for no bound', config.gradNormBound);
  validateModelSpec(config.model);
  if (config.classes !== undefined) {
    const ok = Array.isArray(config.classes) && config.classes.length > 0 && config.classes.every((c) => nonNegativeInt(c)) && new Set(config.classes).size === config.classes.length;
    check(ok, 'classes', 'a list of distinct class ids', config.classes);
    check(config.classes.length === config.model.numClasses, 'classes', `a list of ${config.model.numClasses} ids (the model's classes)`, config.classes);
  }
  if (config.frozenLayers !== undefined) {
    check(Array.isArray(config.frozenLayers) && config.frozenLayers.every((n) => typeof n === 'string' && n !== ''), 'freeze', 'a list of layer names', config.frozenLayers);
  }
  return config;
}

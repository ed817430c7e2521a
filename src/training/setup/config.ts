// The run configuration as plain data with defaults (the reference recipe), and its check.
// Every training command builds one of these from its flags; the coordinator sends it to
// workers in the welcome message. Its shape and ranges are src/schemas/runConfig.ts.
import { CodedError } from '../../errors/codedError.js';
import { DEFAULT_MODEL_SPEC, type ModelSpec, validateModelSpec } from '../../model/spec.js';
import { DEFAULT_NORM_BOUND } from '../../numerics/gradientNormBound.js';
import { describeProblem } from '../../schemas/check.js';
import { trainConfigValidator, type TrainConfig } from '../../schemas/runConfig.js';

export type { FinetuneOrigin, TrainConfig } from '../../schemas/runConfig.js';

/** The flag that sets each field, so that a bad value is reported as the flag the user typed. */
const FLAG_OF: Partial<Record<keyof TrainConfig, string>> = {
  batchSize: 'batch-size',
  learningRate: 'learning-rate',
  valSplit: 'val-split',
  saveBest: 'save-best',
  earlyStop: 'early-stop',
  warmupSteps: 'warmup-steps',
  maxSteps: 'max-steps',
  augmentShift: 'augment',
  trainLimit: 'train-limit',
  testLimit: 'test-limit',
  checkpointEvery: 'checkpoint-every',
  maxGradNorm: 'max-grad-norm',
  gradNormBound: 'grad-norm-bound',
  frozenLayers: 'freeze',
  headLearningRate: 'head-lr',
  dataDir: 'data-dir',
};

export class TrainConfigError extends CodedError<'CONFIG_INVALID'> {
  constructor(message: string) {
    super('CONFIG_INVALID', message);
  }
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

/** Checks a config built from flags; the error names the flag (`--learning-rate must be …`). */
export function validateTrainConfig(config: TrainConfig): TrainConfig {
  const problem = trainConfigProblem(config);
  if (problem === undefined) return config;
  const flag = FLAG_OF[problem.field as keyof TrainConfig] ?? problem.field;
  throw new TrainConfigError(problem.describe(`--${flag}`));
}

export interface ConfigProblem {
  /** The top-level field at fault (`learningRate`, `model`). */
  field: string;
  /** The sentence, with the field called `name` (`--learning-rate`, `config.learningRate`). */
  describe(name: string): string;
}

/**
 * The first thing wrong with a config, or undefined: the schema, then what no schema expresses
 * (the model spec's bounds, classes against the model's outputs).
 */
export function trainConfigProblem(config: unknown): ConfigProblem | undefined {
  const problem = trainConfigValidator.problem(config);
  if (problem) {
    const [field, ...rest] = problem.field.split('.');
    // Inside the model spec the path is the spec's own (`model spec: blocks[0].filters must be …`).
    if (field === 'model' && rest.length > 0) return { field, describe: () => `model spec: ${describeProblem(problem, rest.join('.'))}` };
    return { field, describe: (name) => describeProblem(problem, name + problem.field.slice(field.length)) };
  }
  const valid = config as TrainConfig;
  try {
    validateModelSpec(valid.model as ModelSpec);
  } catch (error) {
    return { field: 'model', describe: () => (error as Error).message };
  }
  if (valid.classes !== undefined && valid.classes.length !== valid.model.numClasses) {
    const classes = valid.classes;
    return { field: 'classes', describe: (name) => `${name} must be a list of ${valid.model.numClasses} ids (the model's classes), got ${JSON.stringify(classes)}` };
  }
  return undefined;
}

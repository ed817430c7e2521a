// The run configuration: what every training command builds from its flags, what the
// coordinator sends each worker in the welcome, and what state.json keeps for --resume. One
// schema for all three; the TypeScript type is derived from it.
import { Type, type Static } from '@sinclair/typebox';
import { compileValidator } from './check.js';
import { finiteNumber, nonNegativeInteger, positiveInteger } from './fields.js';

/** Adam moves every weight by about the learning rate per step: above 1 no model trains. */
export const MAX_LEARNING_RATE = 1;
/** Largest random shift of the augmentation, in pixels (MNIST digits sit 4 px from the border). */
export const MAX_AUGMENT_SHIFT = 4;
export const SCHEDULE_KINDS = ['constant', 'cosine'] as const;
/** The metrics of the validation split that --save-best and --early-stop follow (metrics.jsonl's names). */
export const VALIDATION_METRICS = ['val_accuracy', 'val_loss'] as const;
export type ValidationMetric = (typeof VALIDATION_METRICS)[number];
export type ScheduleKind = (typeof SCHEDULE_KINDS)[number];

export const BlockSpecSchema = Type.Object({
  filters: positiveInteger(),
  dilation: positiveInteger(),
  poolAfter: Type.Optional(Type.Boolean({ expected: 'true or false' })),
});

/**
 * The model spec's shape. Its bounds (odd kernels, the momentum's range, sizes the model can
 * build) are src/model/spec.ts's validateModelSpec, which every reader runs after this.
 */
export const ModelSpecSchema = Type.Object({
  inputShape: Type.Tuple([positiveInteger(), positiveInteger(), positiveInteger()], { expected: '[height, width, channels]' }),
  stemFilters: positiveInteger(),
  kernelSize: positiveInteger(),
  blocks: Type.Array(BlockSpecSchema, { minItems: 1, expected: 'a non-empty list of blocks' }),
  numClasses: positiveInteger(),
  batchNorm: Type.Boolean({ expected: 'true or false' }),
  bnMomentum: finiteNumber('a number in [0, 1)'),
  bnEpsilon: finiteNumber('a positive number'),
});

export const FinetuneOriginSchema = Type.Object({
  /** The checkpoint the weights came from. */
  from: Type.String({ expected: 'a checkpoint path' }),
  /** The --freeze spec as written. */
  freeze: Type.String({ expected: 'a --freeze spec' }),
  /** True when the head was replaced by a freshly initialised one. */
  newHead: Type.Boolean({ expected: 'true or false' }),
});

export const TrainConfigSchema = Type.Object({
  epochs: positiveInteger(),
  /** Global batch: the examples of one optimizer step, summed over all workers. */
  batchSize: positiveInteger(),
  learningRate: Type.Number({ exclusiveMinimum: 0, maximum: MAX_LEARNING_RATE, expected: `a positive number at most ${MAX_LEARNING_RATE}` }),
  schedule: Type.Union(
    SCHEDULE_KINDS.map((kind) => Type.Literal(kind)),
    { expected: `one of ${SCHEDULE_KINDS.join(', ')}` },
  ),
  warmupSteps: nonNegativeInteger(),
  seed: Type.Integer({ expected: 'an integer' }),
  /** Stop after this many optimizer steps in total (0 = run all epochs). */
  maxSteps: nonNegativeInteger(),
  /** Random shift of up to this many pixels (0 = no augmentation). */
  augmentShift: Type.Integer({ minimum: 0, maximum: MAX_AUGMENT_SHIFT, expected: `an integer from 0 to ${MAX_AUGMENT_SHIFT} (pixels)` }),
  /** Limit the training set to its first N examples (0 = all); for quick runs and tests. */
  trainLimit: nonNegativeInteger(),
  /** Limit the test set to its first N examples (0 = all). */
  testLimit: nonNegativeInteger(),
  dataDir: Type.Optional(Type.String({ expected: 'a directory path' })),
  checkpointEvery: positiveInteger(),
  /** Clip the averaged gradient to this global L2 norm before Adam (0 = no clipping; absent in older checkpoints). */
  maxGradNorm: Type.Optional(Type.Number({ minimum: 0, expected: 'a non-negative number (0: no clipping)' })),
  /**
   * A worker's gradients whose norm exceeds this factor times the median of recently accepted
   * norms are refused (0 = no bound); distributed runs only.
   */
  gradNormBound: Type.Optional(
    Type.Union([Type.Literal(0), Type.Number({ exclusiveMinimum: 1 })], { expected: 'a factor above 1, or 0 for no bound' }),
  ),
  /**
   * Hold out this part of the training set for validation at each epoch end: a fraction in (0, 1),
   * or a count of examples when 1 or more (0 or absent: none).
   */
  valSplit: Type.Optional(Type.Number({ minimum: 0, expected: 'a fraction in (0, 1), a whole number of examples, or 0 for none' })),
  /** Keep the checkpoint of the best epoch by this validation metric as checkpoints/best. */
  saveBest: Type.Optional(Type.Union(VALIDATION_METRICS.map((m) => Type.Literal(m)), { expected: `one of ${VALIDATION_METRICS.join(', ')}` })),
  /** Stop after this many epochs without improvement of the validation metric (0 or absent: never). */
  earlyStop: Type.Optional(nonNegativeInteger('a number of epochs (0: off)')),
  /** Evaluate on the test set at the end of every epoch (and at the end of the run). */
  evaluate: Type.Boolean({ expected: 'true or false' }),
  model: ModelSpecSchema,
  /** Train and evaluate on these labels only, remapped to 0..K-1 in the order given (absent: all). */
  classes: Type.Optional(Type.Array(nonNegativeInteger('a class id (a non-negative integer)'), { minItems: 1, uniqueItems: true, expected: 'a list of distinct class ids' })),
  /** Layers whose weights stay fixed (fine-tuning); a frozen batch norm runs in inference mode. */
  frozenLayers: Type.Optional(Type.Array(Type.String({ minLength: 1, expected: 'a layer name' }), { expected: 'a list of layer names' })),
  /** Where a fine-tune run started from; for the record, training does not read it. */
  finetune: Type.Optional(FinetuneOriginSchema),
  /**
   * Peak learning rate of the `head` layer's weights, in place of `learningRate` (same schedule):
   * a fine-tune run's new head learns at a from-scratch rate while the kept layers move slowly.
   */
  headLearningRate: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: MAX_LEARNING_RATE, expected: `a positive number at most ${MAX_LEARNING_RATE}` })),
  /**
   * --bn-momentum was not given: a new run replaces `model.bnMomentum` with the momentum chosen from
   * its planned steps (src/training/setup/batchNormMomentum.ts) and drops this flag, so state.json
   * and the welcome carry the number chosen and a resumed run keeps it.
   */
  bnMomentumFromSteps: Type.Optional(Type.Boolean({ expected: 'true or false' })),
});

export type TrainConfig = Static<typeof TrainConfigSchema>;
export type FinetuneOrigin = Static<typeof FinetuneOriginSchema>;
export const trainConfigValidator = compileValidator(TrainConfigSchema);

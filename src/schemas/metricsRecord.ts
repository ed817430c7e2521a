// The records of metrics.jsonl (format: docs/metrics.md): one per step, one per complete
// epoch, one summary at the end. The training loop writes them (with `time` added), the
// dashboard shows the step records live, and the report reads the file back.
import { Type, type Static } from '@sinclair/typebox';
import { compileValidator } from './check.js';
import { finiteNumber, ISO_TIME, nonNegativeInteger } from './fields.js';

/** The run directory's record file, one JSON object per line, each of a schema below. */
export const METRICS_FILE = 'metrics.jsonl';

const ms = () => Type.Optional(Type.Number({ minimum: 0, expected: 'a duration in ms (a non-negative number)' }));

/** Milliseconds per phase of one step; a source fills in what it can measure. */
export const StepTimingsSchema = Type.Object({
  compute: Type.Number({ minimum: 0, expected: 'a duration in ms (a non-negative number)' }),
  encode: ms(),
  transfer: ms(),
  wait_for_slowest: ms(),
  /** Decoding and averaging the workers' gradients. */
  aggregate: ms(),
  apply: ms(),
  broadcast: ms(),
  total: ms(),
});

/** The phase a timing field measures, for labels and tags (`compute`; an old run's `computeMs` too). */
export function phaseOfTimingKey(key: string): string {
  return key.replace(/_?[mM]s$/, '').replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

const fraction = () => Type.Number({ minimum: 0, maximum: 1, expected: 'a fraction from 0 to 1' });

export const StepRecordSchema = Type.Object({
  type: Type.Literal('step'),
  step: nonNegativeInteger(),
  total_steps: nonNegativeInteger(),
  /** Counted from 1, as the log shows it. */
  epoch: nonNegativeInteger(),
  loss: finiteNumber(),
  accuracy: fraction(),
  lr: finiteNumber(),
  images_per_s: Type.Number({ minimum: 0, expected: 'a non-negative number' }),
  bytes: nonNegativeInteger(),
  workers: nonNegativeInteger(),
  /** Examples whose gradients were applied: the global batch less the parts of dropped workers. */
  examples: Type.Optional(nonNegativeInteger()),
  timings_ms: StepTimingsSchema,
  /** Why this step's update was not applied (it would have made the weights or Adam's state non-finite). */
  refused: Type.Optional(Type.String({ expected: 'a reason' })),
});

export const EpochRecordSchema = Type.Object({
  type: Type.Literal('epoch'),
  epoch: nonNegativeInteger(),
  loss: finiteNumber(),
  train_accuracy: fraction(),
  /** On the split --val-split holds out of the training set. */
  val_loss: Type.Optional(finiteNumber()),
  val_accuracy: Type.Optional(fraction()),
  test_accuracy: Type.Optional(fraction()),
});

/** A summary's loss and accuracy are NaN (null in JSON) when the run took no step. */
const numberOrNull = () => Type.Union([Type.Number(), Type.Null()], { expected: 'a number or null' });

export const SummaryRecordSchema = Type.Object({
  type: Type.Literal('summary'),
  steps: nonNegativeInteger(),
  epochs: Type.Number({ minimum: 0, expected: 'a non-negative number' }),
  images_per_s: Type.Number({ minimum: 0, expected: 'a non-negative number' }),
  final_loss: numberOrNull(),
  train_accuracy: numberOrNull(),
  checkpoint: Type.Optional(Type.String()),
  bytes_per_step: Type.Number({ minimum: 0, expected: 'a non-negative number' }),
  step_timings_ms: StepTimingsSchema,
  interrupted: Type.Boolean(),
  wall_s: Type.Number({ minimum: 0, expected: 'a non-negative number' }),
  test_accuracy: Type.Optional(fraction()),
  val_loss: Type.Optional(finiteNumber()),
  val_accuracy: Type.Optional(fraction()),
  best_checkpoint: Type.Optional(Type.String()),
  stopped_early: Type.Optional(Type.String()),
});

const timed = { time: ISO_TIME };
export const StepLineSchema = Type.Composite([StepRecordSchema, Type.Object(timed)]);
export const EpochLineSchema = Type.Composite([EpochRecordSchema, Type.Object(timed)]);
export const SummaryLineSchema = Type.Composite([SummaryRecordSchema, Type.Object(timed)]);

export type StepTimings = Static<typeof StepTimingsSchema>;
export type StepRecord = Static<typeof StepRecordSchema>;
export type EpochRecord = Static<typeof EpochRecordSchema>;
export type SummaryRecord = Static<typeof SummaryRecordSchema>;
export type StepLine = Static<typeof StepLineSchema>;
export type EpochLine = Static<typeof EpochLineSchema>;
export type SummaryLine = Static<typeof SummaryLineSchema>;

export const stepLineValidator = compileValidator(StepLineSchema);
export const epochLineValidator = compileValidator(EpochLineSchema);
export const summaryLineValidator = compileValidator(SummaryLineSchema);

// The run's records as TensorBoard scalars, in RUN_DIR/tensorboard/ (so `tensorboard --logdir
// runs/` shows every run side by side): the same step, epoch and summary records metrics.jsonl
// gets, under tags grouped by what they measure, plus the run's config as text. Epoch figures
// are plotted at the global step the epoch ended on, so they share the step axis.
import { join } from 'node:path';
import { EventFileWriter } from '../../tensorboard/eventFileWriter.js';
import { phaseOfTimingKey, type StepTimings } from '../../schemas/metricsRecord.js';

export const TENSORBOARD_DIR = 'tensorboard';

/** The record fields turned into scalars; anything else in a record is not plotted. */
interface RunRecord {
  type: string;
  step?: number;
  loss?: number;
  accuracy?: number;
  lr?: number;
  images_per_s?: number;
  bytes?: number;
  timings_ms?: StepTimings;
  train_accuracy?: number;
  test_accuracy?: number | null;
  val_loss?: number;
  val_accuracy?: number;
}

export class TensorBoardLog {
  private readonly writer: EventFileWriter;
  private lastStep = 0;
  /** The step an epoch's test accuracy was written at, so the summary does not repeat it. */
  private testedAt = -1;

  constructor(runDir: string, warn: (message: string) => void, info?: (message: string) => void) {
    this.writer = new EventFileWriter(join(runDir, TENSORBOARD_DIR), { warn, info });
  }

  /** Starts the file: a resumed run marks its restart, and the config goes in as text. */
  started(fromStep: number, config: unknown): void {
    this.lastStep = fromStep;
    if (fromStep > 0) this.writer.sessionStarted(fromStep);
    this.writer.summary(fromStep, [{ tag: 'config', text: codeBlock(JSON.stringify(config, null, 2)) }]);
  }

  write(record: RunRecord): void {
    if (record.type === 'step' && record.step !== undefined) {
      this.lastStep = record.step;
      this.writer.scalars(record.step, {
        'train/loss': record.loss,
        'train/accuracy': record.accuracy,
        'train/learning_rate': record.lr,
        'train/images_per_second': record.images_per_s || undefined,
        'network/bytes_per_step': record.bytes,
        ...timingScalars(record.timings_ms),
      });
    } else if (record.type === 'epoch') {
      if (typeof record.test_accuracy === 'number') this.testedAt = this.lastStep;
      this.writer.scalars(this.lastStep, {
        'epoch/train_loss': record.loss,
        'epoch/train_accuracy': record.train_accuracy,
        'test/accuracy': record.test_accuracy ?? undefined,
        'validation/loss': record.val_loss,
        'validation/accuracy': record.val_accuracy,
      });
    } else if (record.type === 'summary') {
      if (this.testedAt !== this.lastStep) this.writer.scalars(this.lastStep, { 'test/accuracy': record.test_accuracy ?? undefined });
      this.writer.close();
    }
  }
}

/** `compute` → `step_time_ms/compute`. */
function timingScalars(timings: StepTimings | undefined): Record<string, number | undefined> {
  return Object.fromEntries(Object.entries(timings ?? {}).map(([key, ms]) => [`step_time_ms/${phaseOfTimingKey(key)}`, ms as number | undefined]));
}

/** TensorBoard's text plugin renders Markdown: indenting by four spaces keeps JSON as it is. */
function codeBlock(text: string): string {
  return text
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}

// Reads a run's metrics.jsonl (format: docs/metrics.md) into its step, epoch and summary
// records. A resumed run appends to the same file and repeats the steps after its checkpoint:
// the newest record of a step (or epoch) wins. A torn last line (the process died mid-write)
// is skipped; a bad line anywhere else is an error.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StepTimings } from '../training/loop/source.js';
import { METRICS_FILE } from '../training/loop/runLog.js';
import type { StepRecord } from '../training/loop/session.js';
import { ReportError } from './errors.js';

/** A step line of metrics.jsonl: the training loop's step record with the time it was written. */
export type StepLine = StepRecord & { time: string };

export interface EpochLine {
  time: string;
  type: 'epoch';
  epoch: number;
  loss: number;
  train_accuracy: number;
  test_accuracy?: number;
}

export interface SummaryLine {
  time: string;
  type: 'summary';
  steps: number;
  epochs: number;
  imagesPerSecond: number;
  finalLoss: number;
  trainAccuracy: number;
  checkpoint?: string;
  bytesPerStep: number;
  timings: StepTimings;
  interrupted: boolean;
  wallSeconds: number;
  test_accuracy?: number;
}

export interface RunRecords {
  steps: StepLine[];
  epochs: EpochLine[];
  summary?: SummaryLine;
  /** Lines skipped, with why (a torn last line, an unknown type from a newer version). */
  skipped: string[];
}

export function parseMetricsLog(text: string, file = METRICS_FILE): RunRecords {
  const steps = new Map<number, StepLine>();
  const epochs = new Map<number, EpochLine>();
  let summary: SummaryLine | undefined;
  const skipped: string[] = [];
  const lines = text.split('\n');
  let lastContentLine = lines.length - 1;
  while (lastContentLine > 0 && lines[lastContentLine].trim() === '') lastContentLine--;
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let record: { type?: unknown };
    try {
      record = JSON.parse(line);
    } catch {
      if (i === lastContentLine) {
        skipped.push(`${file}:${i + 1}: torn last line`);
        return;
      }
      throw new ReportError('REPORT_BAD_METRICS_LINE', `${file}:${i + 1} is not JSON: ${line.slice(0, 80)}`);
    }
    if (record.type === 'step') {
      const step = record as StepLine;
      steps.set(step.step, step);
    } else if (record.type === 'epoch') {
      const epoch = record as EpochLine;
      epochs.set(epoch.epoch, epoch);
    } else if (record.type === 'summary') {
      summary = record as SummaryLine;
    } else {
      skipped.push(`${file}:${i + 1}: unknown type ${JSON.stringify(record.type)}`);
    }
  });
  return {
    steps: [...steps.values()].sort((a, b) => a.step - b.step),
    epochs: [...epochs.values()].sort((a, b) => a.epoch - b.epoch),
    summary,
    skipped,
  };
}

export async function readRunRecords(runDir: string): Promise<RunRecords> {
  const file = join(runDir, METRICS_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    throw new ReportError('REPORT_NO_METRICS', `no ${METRICS_FILE} in ${runDir}: RUN_DIR must be the --run-dir of a training run`);
  }
  const records = parseMetricsLog(text, file);
  if (records.steps.length === 0) throw new ReportError('REPORT_NO_STEPS', `${file} has no step records yet: report on a run that has trained at least one step`);
  return records;
}

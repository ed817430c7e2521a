// Reads a run's metrics.jsonl (format: docs/metrics.md) into its step, epoch and summary
// records. A resumed run appends to the same file and repeats the steps after its checkpoint:
// the newest record of a step (or epoch) wins. A torn last line (the process died mid-write)
// is skipped; a bad line anywhere else is an error, naming the line and the field. Lines of
// runs written by earlier versions are read in today's form (legacyRecords.ts).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeProblem, type ProblemFinder } from '../schemas/check.js';
import {
  epochLineValidator,
  stepLineValidator,
  summaryLineValidator,
  type EpochLine,
  type StepLine,
  type SummaryLine,
} from '../schemas/metricsRecord.js';
import { METRICS_FILE } from '../training/loop/runLog.js';
import { ReportError } from './errors.js';
import { LegacyRecordReader } from './legacyRecords.js';

export type { EpochLine, StepLine, SummaryLine } from '../schemas/metricsRecord.js';

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
  const legacy = new LegacyRecordReader();
  const lines = text.split('\n');
  let lastContentLine = lines.length - 1;
  while (lastContentLine > 0 && lines[lastContentLine].trim() === '') lastContentLine--;
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let record: Record<string, unknown> & { type?: unknown };
    try {
      record = JSON.parse(line);
    } catch {
      if (i === lastContentLine) {
        skipped.push(`${file}:${i + 1}: torn last line`);
        return;
      }
      throw new ReportError('REPORT_BAD_METRICS_LINE', `${file}:${i + 1} is not JSON: ${line.slice(0, 80)}`);
    }
    const checked = <T>(validator: ProblemFinder): T => {
      const problem = validator.problem(record);
      if (problem) throw new ReportError('REPORT_BAD_METRICS_LINE', `${file}:${i + 1}: a ${String(record.type)} record's ${describeProblem(problem)}`);
      return record as T;
    };
    if (typeof record !== 'object' || record === null || Array.isArray(record)) {
      throw new ReportError('REPORT_BAD_METRICS_LINE', `${file}:${i + 1} is not a JSON object: ${line.slice(0, 80)}`);
    }
    record = legacy.upgrade(record);
    if (record.type === 'step') {
      const step = checked<StepLine>(stepLineValidator);
      steps.set(step.step, step);
    } else if (record.type === 'epoch') {
      const epoch = checked<EpochLine>(epochLineValidator);
      epochs.set(epoch.epoch, epoch);
    } else if (record.type === 'summary') {
      summary = checked<SummaryLine>(summaryLineValidator);
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

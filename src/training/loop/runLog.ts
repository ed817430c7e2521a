// metrics.jsonl: one JSON object per line in the run directory, appended as the run goes
// (`type` is "step", "epoch" or "summary"). Format documented in the README.
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const METRICS_FILE = 'metrics.jsonl';

export class RunLog {
  private readonly file: string;

  constructor(runDir: string) {
    mkdirSync(runDir, { recursive: true });
    this.file = join(runDir, METRICS_FILE);
  }

  write(record: Record<string, unknown>): void {
    appendFileSync(this.file, JSON.stringify({ time: new Date().toISOString(), ...record }) + '\n');
  }
}

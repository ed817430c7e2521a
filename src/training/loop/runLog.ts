// metrics.jsonl: one JSON object per line in the run directory, appended as the run goes
// (`type` is "step", "epoch" or "summary"). Format documented in the README.
// The file is a record, not the run: an append that fails (a full disk, a lost permission) is a
// warning, the records wait in memory, and they are written, in order, once an append works again.
// A process killed mid-append leaves a torn last line; the next run log on the file (a resumed run)
// cuts it off before appending, so that every line of the file stays a whole record.
import { closeSync, ftruncateSync, fstatSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describeFsError } from '../../checkpoint/retryingSave.js';

import { METRICS_FILE } from '../../schemas/metricsRecord.js';

export { METRICS_FILE };
/** Records kept while the file cannot be written; the oldest go first beyond this. */
export const MAX_BUFFERED_RECORDS = 100_000;

export interface RunLogSink {
  warn: (message: string) => void;
  info: (message: string) => void;
}

export class RunLog {
  private readonly file: string;
  private pending: Buffer[] = [];
  private dropped = 0;
  private failing = false;

  constructor(
    runDir: string,
    private readonly sink: RunLogSink = { warn: (m) => console.warn(m), info: () => undefined },
  ) {
    mkdirSync(runDir, { recursive: true });
    this.file = join(runDir, METRICS_FILE);
    this.cutTornTail();
  }

  /** Cuts what follows the file's last newline: the part of a record whose writer died mid-append. */
  private cutTornTail(): void {
    let fd: number;
    try {
      fd = openSync(this.file, 'r+');
    } catch {
      return; // No file yet, or one that cannot be opened: flush() says so when it matters.
    }
    try {
      const size = fstatSync(fd).size;
      const chunk = Buffer.alloc(64 * 1024);
      let end = size;
      while (end > 0) {
        const start = Math.max(0, end - chunk.length);
        const n = readSync(fd, chunk, 0, end - start, start);
        const newline = chunk.subarray(0, n).lastIndexOf(0x0a);
        if (newline >= 0) {
          end = start + newline + 1;
          break;
        }
        end = start;
      }
      if (end < size) {
        ftruncateSync(fd, end);
        this.sink.warn(`${this.file}: cut ${size - end} byte(s) of a torn last record (its writer stopped mid-line) before appending`);
      }
    } catch (error) {
      this.sink.warn(`${this.file}: could not check its last line: ${(error as Error).message}`);
    } finally {
      closeSync(fd);
    }
  }

  write(record: Record<string, unknown>): void {
    this.pending.push(Buffer.from(JSON.stringify({ time: new Date().toISOString(), ...record }) + '\n'));
    if (this.pending.length > MAX_BUFFERED_RECORDS) {
      this.pending.shift();
      this.dropped++;
    }
    this.flush();
  }

  private flush(): void {
    const waiting = this.pending.length;
    const data = Buffer.concat(this.pending);
    let written = 0;
    try {
      const fd = openSync(this.file, 'a');
      try {
        while (written < data.length) written += writeSync(fd, data, written);
      } finally {
        closeSync(fd);
      }
    } catch (error) {
      // What a short write put in the file is not written again.
      if (written > 0) this.pending = [data.subarray(written)];
      // Warn when the outage starts, not for every record of it.
      if (!this.failing) {
        const cause = (error as NodeJS.ErrnoException).code ? describeFsError(error as NodeJS.ErrnoException) : (error as Error).message;
        this.sink.warn(`cannot append to ${this.file}: ${cause}; training goes on, and its records are kept in memory until the file can be written`);
      }
      this.failing = true;
      return;
    }
    if (this.failing) {
      const lost = this.dropped > 0 ? `; ${this.dropped} older record(s) did not fit in memory and are lost` : '';
      this.sink.info(`${this.file} can be written again: wrote ${waiting} record(s) kept in memory${lost}`);
    }
    this.pending = [];
    this.dropped = 0;
    this.failing = false;
  }
}

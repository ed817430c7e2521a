// One TensorBoard event file, appended record by record as the run goes. Every process that
// writes starts a new file (`events.out.tfevents.<seconds>.<host>.<pid>.<n>`), so a resumed run
// never appends to a file a killed process may have left with a torn last record; TensorBoard
// reads all files of a directory in name order. Each record goes out in one write. A write
// that fails (a full disk) is a warning: the run goes on, and the next record starts a new file.
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileVersionEvent, sessionStartEvent, summaryEvent, type SummaryValue } from './events.js';
import { frameRecord } from './tfrecord.js';

/** TensorBoard picks up the files of a directory whose names contain this. */
export const EVENT_FILE_PREFIX = 'events.out.tfevents.';

export interface EventFileWriterOptions {
  warn: (message: string) => void;
  /** Seconds since the epoch (a clock for tests); default the system's. */
  now?: () => number;
}

export class EventFileWriter {
  private fd?: number;
  private path?: string;
  private failing = false;
  private readonly now: () => number;

  constructor(
    readonly dir: string,
    private readonly options: EventFileWriterOptions,
  ) {
    this.now = options.now ?? (() => Date.now() / 1000);
  }

  /** The file written to (undefined until the first record). */
  get file(): string | undefined {
    return this.path;
  }

  scalars(step: number, values: Record<string, number | undefined>): void {
    const finite = Object.entries(values).flatMap(([tag, scalar]) => (typeof scalar === 'number' && Number.isFinite(scalar) ? [{ tag, scalar }] : []));
    if (finite.length > 0) this.summary(step, finite);
  }

  summary(step: number, values: readonly SummaryValue[]): void {
    this.append(summaryEvent(this.now(), step, values));
  }

  /** Marks a (re)start at `step`; TensorBoard then drops later steps of earlier files. */
  sessionStarted(step: number): void {
    this.append(sessionStartEvent(this.now(), step));
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private append(event: Uint8Array): void {
    try {
      const fd = this.fd ?? this.openNew();
      writeWhole(fd, frameRecord(event));
      this.failing = false;
    } catch (error) {
      this.close();
      if (!this.failing) this.options.warn(`cannot write TensorBoard events in ${this.dir}: ${(error as Error).message}; training goes on, and the next record starts a new event file`);
      this.failing = true;
    }
  }

  private openNew(): number {
    mkdirSync(this.dir, { recursive: true });
    const stem = `${EVENT_FILE_PREFIX}${Math.floor(this.now()).toString().padStart(10, '0')}.${hostname()}.${process.pid}`;
    for (let n = 0; ; n++) {
      const path = join(this.dir, `${stem}.${n}`);
      try {
        this.fd = openSync(path, 'wx');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw error;
      }
      this.path = path;
      writeWhole(this.fd, frameRecord(fileVersionEvent(this.now())));
      return this.fd;
    }
  }
}

function writeWhole(fd: number, data: Buffer): void {
  let written = 0;
  while (written < data.length) written += writeSync(fd, data, written);
}

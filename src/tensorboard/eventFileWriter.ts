// One TensorBoard event file, appended record by record as the run goes. Every process that
// writes starts a new file (`events.out.tfevents.<seconds>.<host>.<pid>.<n>`), so a resumed run
// never appends to a file a killed process may have left with a torn last record; TensorBoard
// reads all files of a directory in name order. A record goes out whole or not at all: a write
// that fails (a full disk) is cut back off the file and the record dropped, with one warning
// (metrics.jsonl keeps every record; these are for looking at), and the next records follow
// in the same file once writes succeed again.
import { closeSync, ftruncateSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileVersionEvent, sessionStartEvent, summaryEvent, type SummaryValue } from './events.js';
import { frameRecord } from './tfrecord.js';

/** TensorBoard picks up the files of a directory whose names contain this. */
export const EVENT_FILE_PREFIX = 'events.out.tfevents.';

export interface EventFileWriterOptions {
  warn: (message: string) => void;
  info?: (message: string) => void;
  /** Seconds since the epoch (a clock for tests); default the system's. */
  now?: () => number;
}

export class EventFileWriter {
  private fd?: number;
  private path?: string;
  /** Bytes of whole records in the file: where the next record goes. */
  private size = 0;
  private failing = false;
  private dropped = 0;
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
    this.append(() => summaryEvent(this.now(), step, values));
  }

  /** Marks a (re)start at `step`; TensorBoard then drops later steps of earlier files. */
  sessionStarted(step: number): void {
    this.append(() => sessionStartEvent(this.now(), step));
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /** `event` is built after the file's first record, so that wall times never go back. */
  private append(event: () => Uint8Array): void {
    try {
      const fd = this.fd ?? this.openNew();
      // Every file starts by naming its format.
      if (this.size === 0) this.writeRecord(fd, frameRecord(fileVersionEvent(this.now())));
      this.writeRecord(fd, frameRecord(event()));
      if (this.failing && this.options.info) this.options.info(`${this.path} can be written again (${this.dropped} TensorBoard record(s) were dropped meanwhile)`);
      this.failing = false;
      this.dropped = 0;
    } catch (error) {
      this.dropped += 1;
      if (!this.failing) this.options.warn(`cannot write TensorBoard events in ${this.dir}: ${(error as Error).message}; training goes on, without these records until writes succeed again`);
      this.failing = true;
    }
  }

  /** Appends one record at the end of the whole ones, or cuts off what part of it got written. */
  private writeRecord(fd: number, data: Buffer): void {
    let written = 0;
    try {
      while (written < data.length) written += writeSync(fd, data, written, data.length - written, this.size + written);
    } catch (error) {
      if (written > 0) {
        try {
          ftruncateSync(fd, this.size);
        } catch {
          // Left as a torn last record, which readers skip; the next record overwrites it.
        }
      }
      throw error;
    }
    this.size += data.length;
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
      this.size = 0;
      return this.fd;
    }
  }
}

// A distributed worker's training examples, read from the verified dataset cache as its steps
// ask for them. The worker holds the labels (one byte an example) and the batch in hand, never the
// image set: over an epoch it reads exactly its part of every global batch, its shard.
import { readSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { selectClasses } from './batching.js';
import { cacheCorrupt, type OpenCache } from './cache.js';
import type { ExampleSource } from './examples.js';
import { DataError } from './errors.js';

export interface CachedExamples extends ExampleSource {
  /** Image reads so far (an example asked for twice counts twice). */
  readonly imagesRead: number;
  /** Different examples read so far. */
  readonly distinctRead: number;
  close(): Promise<void>;
}

export interface CachedExamplesOptions {
  /** Keep only these classes, relabelled 0..K-1 in this order (fine-tuning on a subset). */
  classes?: number[];
}

/** The training split of a verified cache; takes over the open file and closes it on close(). */
export function cachedTrainExamples(cache: OpenCache, opts: CachedExamplesOptions = {}): CachedExamples {
  const { handle, layout, file } = cache;
  const allLabels = new Uint8Array(layout.trainCount);
  readFully(handle.fd, allLabels, layout.offsets.trainLabels, file);
  const selection = opts.classes ? selectClasses(allLabels, opts.classes) : undefined;
  // The open file, not the path, stays in use: a cache rebuilt meanwhile is a new file and does
  // not change what was verified.
  return new FileExamples(handle, file, layout.offsets.trainImages, layout.rows, layout.cols, selection?.labels ?? allLabels, selection?.rows);
}

class FileExamples implements CachedExamples {
  readonly count: number;
  imagesRead = 0;
  distinctRead = 0;
  private readonly buffer: Uint8Array;
  private readonly seen: Uint8Array;
  private open = true;

  constructor(
    private readonly handle: FileHandle,
    private readonly file: string,
    private readonly imagesOffset: number,
    readonly rows: number,
    readonly cols: number,
    private readonly labels: Uint8Array,
    /** Row in the file of each example, when a class subset renumbers them. */
    private readonly fileRows?: Int32Array,
  ) {
    this.count = labels.length;
    this.buffer = new Uint8Array(rows * cols);
    this.seen = new Uint8Array(this.count);
  }

  image(index: number): Uint8Array {
    if (!this.open) throw new DataError('CACHE_CLOSED', `${this.file}: read after close`, this.file);
    const row = this.fileRows ? this.fileRows[index] : index;
    readFully(this.handle.fd, this.buffer, this.imagesOffset + row * this.buffer.length, this.file);
    this.imagesRead++;
    if (this.seen[index] === 0) {
      this.seen[index] = 1;
      this.distinctRead++;
    }
    return this.buffer;
  }

  label(index: number): number {
    return this.labels[index];
  }

  async close(): Promise<void> {
    if (!this.open) return;
    this.open = false;
    await this.handle.close();
  }
}

/** Synchronous: a batch is a few dozen small reads from the page cache, cheaper than a promise each. */
function readFully(fd: number, into: Uint8Array, position: number, file: string): void {
  for (let got = 0; got < into.length; ) {
    const n = readSync(fd, into, got, into.length - got, position + got);
    if (n === 0) throw cacheCorrupt(file, `ends at byte ${position + got} while reading`);
    got += n;
  }
}

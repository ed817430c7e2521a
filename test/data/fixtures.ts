// Builders for small IDX files and MNIST-format folders used by the data tests.

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export const IDX_UBYTE = 0x08;
export const IDX_INT32 = 0x0c;

/** Encodes an IDX file big-endian, as the format requires. */
export function encodeIdx(typeByte: number, dims: number[], values: number[]): Uint8Array {
  const elemBytes = typeByte === IDX_INT32 ? 4 : 1;
  const header = 4 + 4 * dims.length;
  const out = new Uint8Array(header + values.length * elemBytes);
  const view = new DataView(out.buffer);
  out[2] = typeByte;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  values.forEach((v, i) =>
    elemBytes === 4 ? view.setInt32(header + 4 * i, v) : view.setUint8(header + i, v),
  );
  return out;
}

const createdDirs: string[] = [];

/** A fresh folder under os.tmpdir(); removeTempDirs() deletes all of them. */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `dsdc-${prefix}-`));
  createdDirs.push(dir);
  return dir;
}

export async function removeTempDirs(): Promise<void> {
  await Promise.all(createdDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

export interface TinySetSpec {
  trainLabels: number[];
  testLabels: number[];
  /** Images in the train file; default trainLabels.length. */
  trainImages?: number;
  rows?: number;
  cols?: number;
  gzip?: boolean;
  /** Use the 'train-images.idx3-ubyte' spelling. */
  dotted?: boolean;
}

/** Writes a tiny MNIST-format folder; image i of a split has every pixel equal to i. */
export async function writeTinySet(dir: string, spec: TinySetSpec): Promise<void> {
  await mkdir(dir, { recursive: true });
  const rows = spec.rows ?? 4;
  const cols = spec.cols ?? 4;
  const sep = spec.dotted ? '.' : '-';
  const suffix = spec.gzip ? '.gz' : '';
  const write = (name: string, bytes: Uint8Array): Promise<void> =>
    writeFile(join(dir, name + suffix), spec.gzip ? gzipSync(bytes) : bytes);
  const pixels = rows * cols;
  const images = (n: number): Uint8Array =>
    encodeIdx(
      IDX_UBYTE,
      [n, rows, cols],
      Array.from({ length: n * pixels }, (_, k) => Math.floor(k / pixels)),
    );
  const labels = (ls: number[]): Uint8Array => encodeIdx(IDX_UBYTE, [ls.length], ls);
  await write(`train-images${sep}idx3-ubyte`, images(spec.trainImages ?? spec.trainLabels.length));
  await write(`train-labels${sep}idx1-ubyte`, labels(spec.trainLabels));
  await write(`t10k-images${sep}idx3-ubyte`, images(spec.testLabels.length));
  await write(`t10k-labels${sep}idx1-ubyte`, labels(spec.testLabels));
}

// The few file-system primitives that make a write survive a crash: write + fsync, fsync of a
// directory (so a rename is durable), the atomic replace built from them, and content hashing.
// Every module that writes a file others read back (checkpoints, LATEST, the dataset cache)
// uses these, so there is one definition of "written".

import { createHash, randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Bytes of randomness in temporary names; enough that concurrent writers never collide. */
const RANDOM_SUFFIX_BYTES = 8;

/** Writes `data` to `path` (replacing it) and fsyncs it before returning. */
export async function writeFileDurable(path: string, data: string | Uint8Array): Promise<void> {
  const file = await open(path, 'w');
  try {
    await file.writeFile(data);
    await file.sync();
  } finally {
    await file.close();
  }
}

/**
 * Fsyncs a directory so that entries created or renamed in it are durable. Platforms that
 * cannot open a directory (Windows) report EISDIR/EPERM; there the rename is already as
 * durable as the OS allows, so those errors are ignored.
 */
export async function fsyncDir(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL') throw e;
  } finally {
    await handle?.close();
  }
}

/**
 * Replaces `path` with `data` so that a reader sees the old file or the whole new one, never a
 * part, and the new one survives a crash once this returns: a temporary file beside it, written
 * and fsynced, renamed over it, then the directory fsynced. The temporary file is removed if any
 * step fails. `temporaryName` puts it elsewhere in the same directory (a prefix readers skip).
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, temporaryName?: string): Promise<void> {
  const temporary = join(dirname(path), temporaryName ?? `.${basename(path)}.${process.pid}.${randomSuffix()}.tmp`);
  try {
    await writeFileDurable(temporary, data);
    await rename(temporary, path);
  } catch (e) {
    await unlink(temporary).catch(() => undefined);
    throw e;
  }
  await fsyncDir(dirname(path));
}

export function sha256(data: Uint8Array | string): Uint8Array {
  return createHash('sha256').update(data).digest();
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function randomSuffix(): string {
  return randomBytes(RANDOM_SUFFIX_BYTES).toString('hex');
}

/** A standalone ArrayBuffer holding a copy of `bytes` (Node buffers may share a pool). */
export function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  const out = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(out).set(bytes);
  return out;
}

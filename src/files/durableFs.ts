// The few file-system primitives that make a write survive a crash: write + fsync, fsync of a
// directory (so a rename is durable), and content hashing.

import { createHash, randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';

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

export function sha256Hex(data: Uint8Array): string {
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

// Storage faults made for real: a directory nothing can be written into (immutable with
// `chattr +i` as root, for root ignores permissions; read-only by mode otherwise) and a small
// tmpfs that a test fills up (root only). Each returns its undo, for finally/afterEach.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const isRoot = process.getuid?.() === 0;

/** A test that needs root may skip on a user's machine, never in CI. */
export function rootOnly(): string | undefined {
  if (isRoot) return undefined;
  if (process.env.CI) throw new Error('this test needs root (chattr, mount) and CI is set: run it as root');
  return 'needs root (mount -t tmpfs); skipped outside CI';
}

/** Makes `dir` refuse new entries; returns the undo. */
export function makeUnwritable(dir: string): () => void {
  if (isRoot) {
    execFileSync('chattr', ['+i', dir]);
    return () => execFileSync('chattr', ['-i', dir]);
  }
  chmodSync(dir, 0o555);
  return () => chmodSync(dir, 0o755);
}

/** A fresh tmpfs of `bytes` (root only); returns its mount point and the undo (unmount, remove). */
export function smallTmpfs(bytes: number): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'dsdc-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir]);
  return {
    dir,
    remove: () => {
      execFileSync('umount', ['-l', dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

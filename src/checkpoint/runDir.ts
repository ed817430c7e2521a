// Layout of `<runDir>/checkpoints/`: the `step-<step>` directories, the LATEST pointer, the
// `.tmp-*` staging names, and the operations on them (commit, point LATEST, prune, list).

import { readdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fsyncDir, randomSuffix, writeFileAtomic } from '../files/durableFs.js';

export const CHECKPOINTS_DIR = 'checkpoints';
export const LATEST_FILE = 'LATEST';
/** Prefix of staging directories and files; readers ignore them. */
export const TMP_PREFIX = '.tmp-';
export const CHECKPOINT_PREFIX = 'step-';
/** Zero-padding of the step in directory names, so names sort like steps. */
export const STEP_DIGITS = 10;
export const CHECKPOINT_NAME = /^step-(\d+)$/;
/**
 * The checkpoint of the best epoch on the validation split (--save-best), beside the step-*
 * ones: listing, LATEST and pruning leave it alone, and `--checkpoint runs/x/checkpoints/best` loads it.
 */
export const BEST_CHECKPOINT = 'best';

export interface CheckpointInfo {
  name: string;
  dir: string;
  step: number;
}

export function checkpointName(step: number): string {
  return CHECKPOINT_PREFIX + String(step).padStart(STEP_DIGITS, '0');
}

export function checkpointsRoot(runDir: string): string {
  return join(runDir, CHECKPOINTS_DIR);
}

/** Checkpoints in `runDir`, oldest first, by directory name only (contents not verified). */
export async function listCheckpoints(runDir: string): Promise<CheckpointInfo[]> {
  const root = checkpointsRoot(runDir);
  let entries;
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return entries
    .filter((e) => e.isDirectory() && CHECKPOINT_NAME.test(e.name))
    .map((e) => ({ name: e.name, dir: join(root, e.name), step: Number(CHECKPOINT_NAME.exec(e.name)![1]) }))
    .sort((a, b) => a.step - b.step);
}

/** A fresh staging directory name under the checkpoints root. */
export function stagingPath(runDir: string, label = ''): string {
  return join(checkpointsRoot(runDir), `${TMP_PREFIX}${label}${randomSuffix()}`);
}

/**
 * Renames the fully written staging directory to `name`, replacing a checkpoint already there
 * (re-saving the same step), and fsyncs the root so the rename is durable.
 */
export async function commitCheckpointDir(runDir: string, staging: string, name: string): Promise<string> {
  const root = checkpointsRoot(runDir);
  const dir = join(root, name);
  const displaced = stagingPath(runDir, 'replaced-');
  const hadOld = await rename(dir, displaced).then(
    () => true,
    (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return false;
      throw e;
    },
  );
  await rename(staging, dir);
  await fsyncDir(root);
  if (hadOld) await rm(displaced, { recursive: true, force: true });
  return dir;
}

/** Atomically points LATEST at `name` (write a temp file, fsync, rename over LATEST). */
export async function writeLatest(runDir: string, name: string): Promise<void> {
  const root = checkpointsRoot(runDir);
  await writeFileAtomic(join(root, LATEST_FILE), `${name}\n`, basename(stagingPath(runDir, `${LATEST_FILE}-`)));
}

/** The name LATEST holds, or undefined if there is no LATEST. */
export async function readLatest(runDir: string): Promise<string | undefined> {
  return readFile(join(checkpointsRoot(runDir), LATEST_FILE), 'utf8').then(
    (text) => text.trim(),
    (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return undefined;
      throw e;
    },
  );
}

/**
 * Keeps `keep` checkpoints — `justSaved` plus the newest others by step — and removes the rest,
 * along with staging leftovers of crashed saves (one writer per run directory is assumed).
 */
export async function pruneCheckpoints(runDir: string, keep: number, justSaved: string): Promise<void> {
  const root = checkpointsRoot(runDir);
  const others = (await listCheckpoints(runDir)).reverse().filter((c) => c.name !== justSaved);
  for (const old of others.slice(keep - 1)) await rm(old.dir, { recursive: true, force: true });
  for (const entry of await readdir(root)) {
    if (entry.startsWith(TMP_PREFIX)) await rm(join(root, entry), { recursive: true, force: true });
  }
}

// Atomic checkpoints of a training run: model, optimizer slots and run state, under
// `<runDir>/checkpoints/step-<step>/`, with `LATEST` naming the newest.
//
// Crash safety comes from ordering: every file is written and fsynced inside a `.tmp-*`
// directory, manifest.json (sizes + sha256) last; the directory is then renamed into place
// and only after that is LATEST replaced (write temp + rename). A crash at any point leaves
// either the previous checkpoint as LATEST or a complete new one; readers ignore `.tmp-*`
// and verify the manifest, falling back to an older checkpoint if the newest is damaged.
// One writer per run directory is assumed: saving removes stale `.tmp-*` leftovers.

import { mkdir, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { fsyncDir, writeFileDurable } from '../files/durableFs.js';
import { firstNonFinite } from '../numerics/vectors.js';
import { CheckpointError } from './errors.js';
import { MANIFEST_FILE, readVerifiedFiles, writeManifest } from './manifest.js';
import { decodeNamedTensors, encodeNamedTensors, type NamedTensor } from './namedTensors.js';
import {
  CHECKPOINT_NAME,
  checkpointName,
  checkpointsRoot,
  commitCheckpointDir,
  listCheckpoints,
  pruneCheckpoints,
  readLatest,
  stagingPath,
  writeLatest,
} from './runDir.js';
import { fileSaveHandler, loadHandlerFromReader, MODEL_JSON_FILE, WEIGHTS_FILE } from './tfjsFiles.js';

export { BEST_CHECKPOINT, listCheckpoints, type CheckpointInfo } from './runDir.js';
export type { NamedTensor } from './namedTensors.js';

export const DEFAULT_KEEP = 3;
export const OPTIMIZER_JSON_FILE = 'optimizer.json';
export const OPTIMIZER_BIN_FILE = 'optimizer.bin';
export const STATE_FILE = 'state.json';
const CHECKPOINT_FILES = [MODEL_JSON_FILE, WEIGHTS_FILE, OPTIMIZER_BIN_FILE, OPTIMIZER_JSON_FILE, STATE_FILE] as const;

/** JSON-serialisable run state; `step` names the checkpoint. */
export interface CheckpointState {
  step: number;
  [key: string]: unknown;
}

export interface CheckpointContents {
  model: tf.LayersModel;
  /** From `await optimizer.getWeights()`; restore with `optimizer.setWeights`. */
  optimizerWeights: NamedTensor[];
  state: CheckpointState;
}

export interface SaveCheckpointOptions {
  /** How many checkpoints to keep, newest by step (the one just saved is always kept). */
  keep?: number;
  /** Save under this name (BEST_CHECKPOINT) instead of step-<step>, leaving LATEST and the others as they are. */
  as?: string;
}

export interface LoadCheckpointOptions {
  /** Receives warnings about skipped checkpoints; defaults to console.warn. */
  log?: (message: string) => void;
}

export interface LoadedCheckpoint {
  dir: string;
  /** Serves the verified model files: `await tf.loadLayersModel(loaded.modelArtifactsHandler)`. */
  modelArtifactsHandler: tf.io.IOHandler;
  /** New tensors owned by the caller (dispose them after `optimizer.setWeights`). */
  optimizerWeights: NamedTensor[];
  state: CheckpointState;
}

function invalid(message: string, cause?: unknown): CheckpointError {
  return new CheckpointError('CKPT_INVALID_ARGUMENT', message, { cause });
}

function serializeState(state: CheckpointState): string {
  if (!Number.isSafeInteger(state?.step) || state.step < 0) {
    throw invalid(`state.step must be a non-negative integer, got ${state?.step}`);
  }
  try {
    return JSON.stringify(state, null, 2);
  } catch (e) {
    throw invalid(`state is not JSON-serialisable: ${(e as Error).message}`, e);
  }
}

/**
 * Writes a checkpoint atomically and returns its directory, `<runDir>/checkpoints/step-<step>`.
 * Tensors passed in are read, not disposed.
 */
export async function saveCheckpoint(
  runDir: string,
  ckpt: CheckpointContents,
  opts: SaveCheckpointOptions = {},
): Promise<string> {
  const keep = opts.keep ?? DEFAULT_KEEP;
  if (!Number.isInteger(keep) || keep < 1) throw invalid(`keep must be an integer ≥ 1, got ${keep}`);
  const stateJson = serializeState(ckpt.state);
  const name = opts.as ?? checkpointName(ckpt.state.step);
  refuseNonFinite(runDir, name, ckpt);
  await mkdir(checkpointsRoot(runDir), { recursive: true });
  const tmp = stagingPath(runDir);
  await mkdir(tmp);
  let dir: string;
  try {
    await ckpt.model.save(fileSaveHandler(tmp));
    const optimizer = await encodeNamedTensors(ckpt.optimizerWeights);
    await writeFileDurable(join(tmp, OPTIMIZER_BIN_FILE), optimizer.data);
    await writeFileDurable(join(tmp, OPTIMIZER_JSON_FILE), JSON.stringify(optimizer.index, null, 2));
    await writeFileDurable(join(tmp, STATE_FILE), stateJson);
    await writeManifest(tmp, [...CHECKPOINT_FILES]);
    await fsyncDir(tmp);
    dir = await commitCheckpointDir(runDir, tmp, name);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
  if (opts.as !== undefined) return dir;
  await writeLatest(runDir, name);
  await pruneCheckpoints(runDir, keep, name);
  return dir;
}

/** A run must never carry NaN or Infinity into a checkpoint, where --resume would pick it up again. */
function refuseNonFinite(runDir: string, name: string, ckpt: CheckpointContents): void {
  const tensors = [
    ...ckpt.model.weights.map((w) => ({ name: w.name, tensor: w.read(), file: WEIGHTS_FILE })),
    ...ckpt.optimizerWeights.map((t) => ({ ...t, file: OPTIMIZER_BIN_FILE })),
  ];
  for (const { name: tensorName, tensor, file } of tensors) {
    if (tensor.dtype !== 'float32') continue;
    const values = tensor.dataSync() as Float32Array;
    const index = firstNonFinite(values);
    if (index >= 0) {
      throw new CheckpointError(
        'CKPT_NON_FINITE',
        `refusing to write checkpoint ${name} in ${checkpointsRoot(runDir)}: tensor '${tensorName}' (for ${file}) holds ${values[index]} at index ${index}; nothing was written and the earlier checkpoints are kept`,
      );
    }
  }
}

function parseJson(bytes: Uint8Array, file: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new CheckpointError('CKPT_CORRUPT', `${file}: is not valid JSON (${(e as Error).message})`, { cause: e });
  }
}

/** Verifies one checkpoint directory and decodes it; throws CKPT_CORRUPT if anything is off. */
async function readCheckpoint(dir: string): Promise<LoadedCheckpoint> {
  const files = await readVerifiedFiles(dir, CHECKPOINT_FILES);
  const file = (name: string): Uint8Array => files.get(name)!;
  const state = parseJson(file(STATE_FILE), join(dir, STATE_FILE)) as CheckpointState | null;
  if (state == null || typeof state !== 'object' || !Number.isSafeInteger(state.step)) {
    throw new CheckpointError('CKPT_CORRUPT', `${join(dir, STATE_FILE)}: expected an object with an integer step`);
  }
  const optimizerIndex = parseJson(file(OPTIMIZER_JSON_FILE), join(dir, OPTIMIZER_JSON_FILE));
  const optimizerWeights = decodeNamedTensors(
    optimizerIndex,
    file(OPTIMIZER_BIN_FILE),
    `${join(dir, OPTIMIZER_JSON_FILE)} with ${OPTIMIZER_BIN_FILE}`,
  );
  const readModelFile = async (path: string): Promise<Uint8Array> => {
    const bytes = files.get(path);
    if (bytes === undefined) {
      throw new CheckpointError('CKPT_CORRUPT', `${join(dir, MODEL_JSON_FILE)}: refers to '${path}', which ${MANIFEST_FILE} does not list`);
    }
    return bytes;
  };
  return { dir, modelArtifactsHandler: loadHandlerFromReader(readModelFile, dir), optimizerWeights, state };
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isDirectory(), () => false);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

/** Checkpoint names to try in order: LATEST's target first, then the others, newest first. */
async function candidates(runDir: string, log: (message: string) => void): Promise<string[]> {
  const names = (await listCheckpoints(runDir)).reverse().map((c) => c.name);
  const latest = await readLatest(runDir);
  if (latest === undefined || names[0] === latest) return names;
  if (!names.includes(latest)) {
    log(`${join(checkpointsRoot(runDir), 'LATEST')} names '${latest}', which is not a checkpoint here; trying the newest`);
    return names;
  }
  return [latest, ...names.filter((n) => n !== latest)];
}

/**
 * Loads a checkpoint. Given a checkpoint directory, loads exactly that one (CKPT_CORRUPT if it
 * fails verification). Given a run directory, loads LATEST; a corrupt or half-written
 * checkpoint is skipped with a warning and the next newest valid one is used
 * (CKPT_NO_VALID if none is).
 */
export async function loadCheckpoint(pathOrRunDir: string, opts: LoadCheckpointOptions = {}): Promise<LoadedCheckpoint> {
  const log = opts.log ?? ((message: string) => console.warn(message));
  const runRoot = checkpointsRoot(pathOrRunDir);
  if (!(await isDirectory(runRoot))) {
    const isCheckpointDir =
      (await isDirectory(pathOrRunDir)) &&
      (CHECKPOINT_NAME.test(basename(pathOrRunDir)) || (await exists(join(pathOrRunDir, MANIFEST_FILE))));
    if (isCheckpointDir) return readCheckpoint(pathOrRunDir);
    throw new CheckpointError(
      'CKPT_NOT_FOUND',
      `${pathOrRunDir} is neither a run directory (with checkpoints/) nor a checkpoint directory (with ${MANIFEST_FILE})`,
    );
  }
  const names = await candidates(pathOrRunDir, log);
  const skipped: string[] = [];
  for (const name of names) {
    try {
      const loaded = await readCheckpoint(join(runRoot, name));
      if (skipped.length > 0) log(`loaded ${loaded.dir} after skipping ${skipped.length} damaged checkpoint(s)`);
      return loaded;
    } catch (e) {
      if (!(e instanceof CheckpointError && e.code === 'CKPT_CORRUPT')) throw e;
      skipped.push(name);
      log(`skipping damaged checkpoint ${name}: ${e.message}`);
    }
  }
  throw new CheckpointError(
    'CKPT_NO_VALID',
    names.length === 0
      ? `${runRoot} contains no checkpoints`
      : `${runRoot} contains no valid checkpoint (${names.length} damaged: ${names.join(', ')})`,
  );
}

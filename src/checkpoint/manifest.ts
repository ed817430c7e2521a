// The manifest of a checkpoint directory: every file's size and sha256, written last, so a
// checkpoint whose files disagree with it (torn write, bit rot, a hand edit) is recognised.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeProblem } from '../schemas/check.js';
import { MANIFEST_FORMAT_VERSION, manifestValidator, type Manifest, type ManifestEntry } from '../schemas/manifest.js';
import { sha256Hex, writeFileDurable } from '../files/durableFs.js';
import { CheckpointError } from './errors.js';

export const MANIFEST_FILE = 'manifest.json';
export { MANIFEST_FORMAT_VERSION, type Manifest, type ManifestEntry } from '../schemas/manifest.js';

/** Hashes the named files as they are on disk in `dir` and writes (and fsyncs) manifest.json. */
export async function writeManifest(dir: string, fileNames: string[]): Promise<Manifest> {
  const files: ManifestEntry[] = [];
  for (const name of fileNames) {
    const data = await readFile(join(dir, name));
    files.push({ name, bytes: data.byteLength, sha256: sha256Hex(data) });
  }
  const manifest: Manifest = { formatVersion: MANIFEST_FORMAT_VERSION, files };
  await writeFileDurable(join(dir, MANIFEST_FILE), JSON.stringify(manifest, null, 2));
  return manifest;
}

/**
 * Reads manifest.json in `dir`, checks that it lists every `required` file and that every listed
 * file has the recorded size and sha256. Returns the verified contents by file name, so callers
 * use exactly the bytes that were checked. Throws CKPT_CORRUPT naming the file and the problem.
 */
export async function readVerifiedFiles(dir: string, required: readonly string[]): Promise<Map<string, Uint8Array>> {
  const corrupt = (file: string, what: string, cause?: unknown) =>
    new CheckpointError('CKPT_CORRUPT', `${join(dir, file)}: ${what}`, { cause });
  const read = async (file: string, missing: string): Promise<Uint8Array> => {
    try {
      return await readFile(join(dir, file));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw corrupt(file, code === 'ENOENT' ? missing : `cannot be read (${code ?? (e as Error).message})`, e);
    }
  };

  const manifestBytes = await read(MANIFEST_FILE, 'is missing, so the checkpoint was not completely written');
  let manifest: unknown;
  try {
    manifest = JSON.parse(new TextDecoder().decode(manifestBytes));
  } catch (e) {
    throw corrupt(MANIFEST_FILE, `is not valid JSON (${(e as Error).message})`, e);
  }
  const problem = manifestValidator.problem(manifest);
  if (problem) throw corrupt(MANIFEST_FILE, describeProblem(problem));
  const { files } = manifest as Manifest;
  const listed = new Set(files.map((f) => f.name));
  const unlisted = required.filter((name) => !listed.has(name));
  if (unlisted.length > 0) throw corrupt(MANIFEST_FILE, `does not list ${unlisted.join(', ')}`);

  const contents = new Map<string, Uint8Array>();
  for (const entry of files) {
    const data = await read(entry.name, 'is listed in the manifest but missing');
    if (data.byteLength !== entry.bytes) {
      throw corrupt(entry.name, `has ${data.byteLength} bytes, the manifest records ${entry.bytes} (truncated or partially written)`);
    }
    const actual = sha256Hex(data);
    if (actual !== entry.sha256) {
      throw corrupt(entry.name, `sha256 ${actual} does not match the manifest's ${entry.sha256} (the file is corrupt)`);
    }
    contents.set(entry.name, data);
  }
  return contents;
}

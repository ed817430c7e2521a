// manifest.json of a checkpoint directory: every file's name, size and sha256.
import { Type, type Static } from '@sinclair/typebox';
import { compileValidator } from './check.js';

export const MANIFEST_FORMAT_VERSION = 1;

export const ManifestEntrySchema = Type.Object({
  /** A plain file name in the checkpoint directory: no separators, not '.' or '..'. */
  name: Type.String({ pattern: '^(?!\\.\\.?$)[^/\\\\]+$', expected: 'a file name in the checkpoint directory (no path)' }),
  bytes: Type.Integer({ minimum: 0, expected: 'a byte count (a non-negative integer)' }),
  sha256: Type.String({ pattern: '^[0-9a-f]{64}$', expected: 'a sha256 digest (64 lowercase hex digits)' }),
});

export const ManifestSchema = Type.Object({
  formatVersion: Type.Literal(MANIFEST_FORMAT_VERSION, { expected: `${MANIFEST_FORMAT_VERSION} (the manifest format this version reads)` }),
  files: Type.Array(ManifestEntrySchema, { expected: 'a list of {name, bytes, sha256}' }),
});

export type ManifestEntry = Static<typeof ManifestEntrySchema>;
export type Manifest = Static<typeof ManifestSchema>;
export const manifestValidator = compileValidator(ManifestSchema);

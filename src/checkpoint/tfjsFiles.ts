// tfjs IOHandlers that store a LayersModel in a directory in the standard tfjs layers format
// (model.json + weights.bin), the format tfjs-node's `file://` handler writes and
// `tf.loadLayersModel` reads. tfjs-node is not a dependency, so we provide our own.

import { mkdir, readFile } from 'node:fs/promises';
import { isAbsolute, join, normalize, sep } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { toArrayBuffer, writeFileDurable } from '../files/durableFs.js';
import { CheckpointError } from './errors.js';
import { checkModelFiles } from './modelFileBounds.js';

export const MODEL_JSON_FILE = 'model.json';
export const WEIGHTS_FILE = 'weights.bin';
const LAYERS_MODEL_FORMAT = 'layers-model';

/** Reads one file of a saved model, by its path relative to the model's directory. */
export type ModelFileReader = (relativePath: string) => Promise<Uint8Array>;

function modelJsonFor(artifacts: tf.io.ModelArtifacts): tf.io.ModelJSON {
  if (artifacts.modelTopology == null || artifacts.modelTopology instanceof ArrayBuffer) {
    throw new TypeError('fileSaveHandler saves Layers models with a JSON topology only');
  }
  const modelJson: tf.io.ModelJSON = {
    modelTopology: artifacts.modelTopology,
    format: artifacts.format ?? LAYERS_MODEL_FORMAT,
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy ?? null,
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs ?? [] }],
  };
  // Optional sections are written only when present, like tfjs's own handlers do.
  if (artifacts.trainingConfig != null) modelJson.trainingConfig = artifacts.trainingConfig;
  if (artifacts.signature != null) modelJson.signature = artifacts.signature;
  if (artifacts.userDefinedMetadata != null) modelJson.userDefinedMetadata = artifacts.userDefinedMetadata;
  if (artifacts.modelInitializer != null) modelJson.modelInitializer = artifacts.modelInitializer;
  if (artifacts.initializerSignature != null) modelJson.initializerSignature = artifacts.initializerSignature;
  return modelJson;
}

/**
 * Saves to `dir` (created if needed) as model.json + weights.bin, each fsynced.
 * Use as `model.save(fileSaveHandler(dir))`.
 */
export function fileSaveHandler(dir: string): tf.io.IOHandler {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      const modelJson = modelJsonFor(artifacts);
      // tfjs 4.22 may hand weights over as one buffer or as a list of shards.
      const weightData = tf.io.CompositeArrayBuffer.join(artifacts.weightData ?? []);
      await mkdir(dir, { recursive: true });
      await writeFileDurable(join(dir, WEIGHTS_FILE), new Uint8Array(weightData));
      await writeFileDurable(join(dir, MODEL_JSON_FILE), JSON.stringify(modelJson));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
  };
}

function parseModelJson(bytes: Uint8Array, source: string): tf.io.ModelJSON {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new CheckpointError('CKPT_CORRUPT', `${source}/${MODEL_JSON_FILE} is not valid JSON: ${(e as Error).message}`);
  }
  const json = parsed as Partial<tf.io.ModelJSON> | null;
  if (json == null || typeof json !== 'object' || json.modelTopology == null || !Array.isArray(json.weightsManifest)) {
    throw new CheckpointError(
      'CKPT_CORRUPT',
      `${source}/${MODEL_JSON_FILE} lacks modelTopology or weightsManifest; it is not a tfjs layers model`,
    );
  }
  return json as tf.io.ModelJSON;
}

/**
 * A loading IOHandler over any source of the model's files (a directory, or bytes already read
 * and verified). `source` names the origin in error messages.
 */
export function loadHandlerFromReader(read: ModelFileReader, source: string): tf.io.IOHandler {
  return {
    async load(): Promise<tf.io.ModelArtifacts> {
      const file = `${source}/${MODEL_JSON_FILE}`;
      const modelJson = parseModelJson(await read(MODEL_JSON_FILE), source);
      const contents = new Map<string, Uint8Array>();
      for (const group of modelJson.weightsManifest) {
        for (const path of group?.paths ?? []) if (!contents.has(path)) contents.set(path, await read(path));
      }
      checkModelFiles(modelJson, new Map([...contents].map(([path, bytes]) => [path, bytes.byteLength])), file);
      return tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
        const specs: tf.io.WeightsManifestEntry[] = [];
        const shards: ArrayBuffer[] = [];
        for (const group of manifest) {
          specs.push(...group.weights);
          for (const path of group.paths) shards.push(toArrayBuffer(contents.get(path)!));
        }
        return [specs, tf.io.CompositeArrayBuffer.join(shards)];
      });
    },
  };
}

/**
 * tf.loadLayersModel, with any failure of tfjs itself (an unknown layer class, a shape it
 * refuses) reported against the model's files: tfjs's own messages name none.
 */
export async function loadLayersModelFrom(handler: tf.io.IOHandler, source: string): Promise<tf.LayersModel> {
  try {
    return await tf.loadLayersModel(handler);
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    throw new CheckpointError('CKPT_CORRUPT', `${source}/${MODEL_JSON_FILE}: tfjs cannot build the model it describes: ${(e as Error).message}`, { cause: e });
  }
}

/** Resolves a manifest path inside `dir`, refusing paths that would escape it. */
function pathInside(dir: string, relativePath: string): string {
  const normalized = normalize(relativePath);
  if (isAbsolute(normalized) || normalized === '..' || normalized.startsWith(`..${sep}`)) {
    throw new CheckpointError(
      'CKPT_CORRUPT',
      `${dir}/${MODEL_JSON_FILE} refers to weights file '${relativePath}' outside its directory`,
    );
  }
  return join(dir, normalized);
}

/** Loads model.json and its weight files from `dir`: `tf.loadLayersModel(fileLoadHandler(dir))`. */
export function fileLoadHandler(dir: string): tf.io.IOHandler {
  return loadHandlerFromReader((path) => readFile(pathInside(dir, path)), dir);
}

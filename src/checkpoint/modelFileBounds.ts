// Checks a saved model's model.json against its weight files and against the model bounds before
// tfjs builds anything: tfjs allocates every layer the topology declares and only then finds
// that the weights do not fit ("Shape mismatch", naming no file). Like safetensors, the declared
// sizes must add up to the file lengths, and the declared layers must stay within bounds and
// agree with the declared weights.
import type * as tf from '@tensorflow/tfjs';
import { MODEL_SPEC_BOUNDS } from '../model/spec.js';
import { CheckpointError } from './errors.js';

const DTYPE_BYTES: Readonly<Record<string, number>> = { float32: 4, int32: 4, bool: 1 };

/** Layer config fields that set how much a layer allocates, and the largest value accepted. */
const SIZE_FIELDS: Readonly<Record<string, number>> = {
  filters: MODEL_SPEC_BOUNDS.maxFilters,
  units: MODEL_SPEC_BOUNDS.maxFilters,
  depth_multiplier: MODEL_SPEC_BOUNDS.maxFilters,
  kernel_size: MODEL_SPEC_BOUNDS.maxKernelSize,
  dilation_rate: MODEL_SPEC_BOUNDS.maxDilation,
  pool_size: MODEL_SPEC_BOUNDS.maxInputSide,
  batch_input_shape: MODEL_SPEC_BOUNDS.maxInputSide,
};

interface LayerJson {
  class_name?: unknown;
  config?: Record<string, unknown>;
}

function corrupt(file: string, message: string): CheckpointError {
  return new CheckpointError('CKPT_CORRUPT', `${file}: ${message}`);
}

/** Layers of a Sequential or functional topology (nested models included). */
function layersOf(topology: unknown): LayerJson[] {
  const config = (topology as { config?: unknown } | null)?.config;
  const layers = Array.isArray(config) ? config : (config as { layers?: unknown } | undefined)?.layers;
  if (!Array.isArray(layers)) return [];
  return layers.flatMap((layer: LayerJson) => [layer, ...layersOf(layer)]);
}

function numbersIn(value: unknown): number[] {
  if (typeof value === 'number') return [value];
  if (Array.isArray(value)) return value.flatMap(numbersIn);
  return [];
}

/** Total bytes and elements the manifest declares, per weight group; throws on a malformed entry. */
function declaredSizes(modelJson: tf.io.ModelJSON, file: string): { groups: { paths: string[]; bytes: number }[]; elements: number; shapes: Map<string, number[]> } {
  const shapes = new Map<string, number[]>();
  let elements = 0;
  const groups = modelJson.weightsManifest.map((group, g) => {
    if (!Array.isArray(group?.paths) || !Array.isArray(group?.weights)) throw corrupt(file, `weightsManifest[${g}] needs 'paths' and 'weights' lists`);
    let bytes = 0;
    for (const w of group.weights) {
      const shape = w?.shape as unknown;
      if (typeof w?.name !== 'string' || !Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
        throw corrupt(file, `weightsManifest[${g}] has an entry without a name and a shape of non-negative integers: ${JSON.stringify(w).slice(0, 200)}`);
      }
      const size = DTYPE_BYTES[w.dtype];
      if (size === undefined || w.quantization !== undefined) throw corrupt(file, `weight "${w.name}" has dtype ${JSON.stringify(w.dtype)}${w.quantization ? ' (quantized)' : ''}; expected ${Object.keys(DTYPE_BYTES).join(', ')}`);
      const count = shape.reduce((a: number, b: number) => a * b, 1);
      elements += count;
      if (elements > MODEL_SPEC_BOUNDS.maxParameters) {
        throw corrupt(file, `declares more than ${MODEL_SPEC_BOUNDS.maxParameters} weight values (at "${w.name}", shape [${shape.join(', ')}]), more than this build accepts`);
      }
      bytes += count * size;
      shapes.set(w.name, shape);
    }
    return { paths: group.paths, bytes };
  });
  return { groups, elements, shapes };
}

function checkLayers(modelJson: tf.io.ModelJSON, shapes: ReadonlyMap<string, number[]>, file: string): void {
  for (const layer of layersOf(modelJson.modelTopology)) {
    const config = layer.config ?? {};
    const name = String(config.name ?? layer.class_name);
    for (const [field, max] of Object.entries(SIZE_FIELDS)) {
      for (const value of numbersIn(config[field])) {
        if (!Number.isSafeInteger(value) || value < 0) throw corrupt(file, `layer "${name}" declares ${field} ${JSON.stringify(config[field])}; expected non-negative integers`);
        if (value > max) throw corrupt(file, `layer "${name}" declares ${field} ${value}, more than the ${max} this build accepts`);
      }
    }
    // A layer's own width is the last dimension of each of its weights (a depthwise kernel's is
    // its channel multiplier instead): a topology edited without its weights is caught here.
    const width = typeof config.filters === 'number' ? config.filters : typeof config.units === 'number' ? config.units : undefined;
    if (width === undefined) continue;
    for (const [weight, shape] of shapes) {
      if (!weight.startsWith(`${name}/`) || /depthwise/.test(weight) || shape.length === 0) continue;
      const last = shape[shape.length - 1];
      if (last !== width) {
        throw corrupt(file, `layer "${name}" declares ${config.filters !== undefined ? 'filters' : 'units'} ${width}, but its weight "${weight}" has shape [${shape.join(', ')}]; the topology and the weights disagree`);
      }
    }
  }
}

/**
 * Checks model.json (`file` names it) against the byte lengths of its weight files (by manifest
 * path) and the bounds. Throws CKPT_CORRUPT naming the file and what is off.
 */
export function checkModelFiles(modelJson: tf.io.ModelJSON, fileBytes: ReadonlyMap<string, number>, file: string): void {
  const { groups, shapes } = declaredSizes(modelJson, file);
  for (const group of groups) {
    const actual = group.paths.reduce((sum, path) => sum + (fileBytes.get(path) ?? 0), 0);
    if (actual !== group.bytes) {
      throw corrupt(file, `its weights manifest declares ${group.bytes} bytes, but ${group.paths.join(', ')} ${group.paths.length > 1 ? 'hold' : 'holds'} ${actual}; the files do not belong together or one was cut short`);
    }
  }
  checkLayers(modelJson, shapes, file);
}

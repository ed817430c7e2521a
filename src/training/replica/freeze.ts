// Which layers a fine-tune run keeps fixed. A freeze spec is written on the command line
// (`--freeze all-but-last:2`, `--freeze stem_conv,sdc1`, `--freeze 'sdc*'`, `--freeze none`) and
// resolved against the model into layer names; the run config carries those names, so the
// coordinator, every worker and a resumed run freeze exactly the same layers.
//
// `all-but-last:K` counts *trainable units*, not raw layers: a convolution and the batch norm
// right after it are one unit (stem_conv+stem_bn, sdc1+sdc1_bn, …), the head is one. For the
// default DSDC-Net (stem, sdc1 … sdc4, head) all-but-last:2 trains sdc4, sdc4_bn and head,
// all-but-last:1 the head alone.
import type * as tf from '@tensorflow/tfjs';
import { CodedError } from '../../errors/codedError.js';

export type FreezeSpec =
  | { kind: 'none' }
  | { kind: 'all-but-last'; keep: number }
  | { kind: 'names'; names: string[] }
  | { kind: 'pattern'; pattern: string; regex: RegExp };

export class FreezeSpecError extends CodedError<'FREEZE_SPEC'> {
  constructor(message: string) {
    super('FREEZE_SPEC', message);
  }
}

const ALL_BUT_LAST = /^all-but-last:(.*)$/;
const NAME = /^[A-Za-z0-9_]+$/;

/** Parses the text of `--freeze`; syntax only, the model's layers are checked by resolveFreezeSpec. */
export function parseFreezeSpec(text: string): FreezeSpec {
  const spec = text.trim();
  const bad = (why: string): never => {
    throw new FreezeSpecError(`--freeze '${text}': ${why}`);
  };
  if (spec === '') bad("empty; give 'none', 'all-but-last:K', a list of layer names or a pattern such as 'sdc*'");
  if (spec === 'none') return { kind: 'none' };
  const allBut = ALL_BUT_LAST.exec(spec);
  if (allBut) {
    const keep = Number(allBut[1]);
    if (!/^\d+$/.test(allBut[1]) || keep < 1) bad(`K in all-but-last:K must be an integer ≥ 1 (the layers left trainable), got '${allBut[1]}'`);
    return { kind: 'all-but-last', keep };
  }
  if (spec.length > 2 && spec.startsWith('/') && spec.endsWith('/')) {
    try {
      return { kind: 'pattern', pattern: spec, regex: new RegExp(spec.slice(1, -1)) };
    } catch (error) {
      return bad(`not a valid regular expression (${(error as Error).message})`);
    }
  }
  if (/[*?]/.test(spec)) {
    if (!/^[A-Za-z0-9_*?]+$/.test(spec)) bad('a glob pattern may hold only letters, digits, _ and the wildcards * and ?');
    const source = spec.replace(/\*/g, '.*').replace(/\?/g, '.');
    return { kind: 'pattern', pattern: spec, regex: new RegExp(`^${source}$`) };
  }
  const names = spec.split(',').map((n) => n.trim());
  const seen = new Set<string>();
  for (const name of names) {
    if (!NAME.test(name)) bad(`'${name}' is not a layer name (letters, digits and _), a pattern (with * or ?, or /regex/), 'none' or 'all-but-last:K'`);
    if (seen.has(name)) bad(`layer '${name}' is listed twice`);
    seen.add(name);
  }
  return { kind: 'names', names };
}

/** Layers that own weights, in model order. */
export function weightedLayers(model: tf.LayersModel): tf.layers.Layer[] {
  return model.layers.filter((layer) => layer.weights.length > 0);
}

/** Weighted layers grouped into units: a normalisation layer joins the layer before it. */
export function trainableUnits(model: tf.LayersModel): string[][] {
  const units: string[][] = [];
  for (const layer of weightedLayers(model)) {
    const isNormalisation = /_bn$/.test(layer.name) || layer.getClassName() === 'BatchNormReLU';
    if (isNormalisation && units.length > 0) units[units.length - 1].push(layer.name);
    else units.push([layer.name]);
  }
  return units;
}

/** The names of the layers `spec` freezes in `model`, in model order; throws on what cannot apply. */
export function resolveFreezeSpec(spec: FreezeSpec, model: tf.LayersModel, specText: string): string[] {
  const weighted = weightedLayers(model).map((l) => l.name);
  const bad = (why: string): never => {
    throw new FreezeSpecError(`--freeze '${specText}': ${why}`);
  };
  let frozen: Set<string>;
  switch (spec.kind) {
    case 'none':
      return [];
    case 'all-but-last': {
      const units = trainableUnits(model);
      if (spec.keep >= units.length) {
        bad(`the model has ${units.length} layers with weights (${units.map((u) => u.join('+')).join(', ')}); K must be below ${units.length} (use 'none' to train all)`);
      }
      frozen = new Set(units.slice(0, units.length - spec.keep).flat());
      break;
    }
    case 'names': {
      const all = new Set(model.layers.map((l) => l.name));
      for (const name of spec.names) {
        if (!all.has(name)) bad(`the model has no layer '${name}'; its layers with weights are ${weighted.join(', ')}`);
        if (!weighted.includes(name)) bad(`layer '${name}' has no weights to freeze; layers with weights are ${weighted.join(', ')}`);
      }
      frozen = new Set(spec.names);
      break;
    }
    case 'pattern': {
      frozen = new Set(weighted.filter((name) => spec.regex.test(name)));
      if (frozen.size === 0) bad(`matches none of the layers with weights (${weighted.join(', ')})`);
      break;
    }
  }
  if (frozen.size === weighted.length) bad(`freezes every layer with weights; nothing would train`);
  return weighted.filter((name) => frozen.has(name));
}

/**
 * Marks the named layers non-trainable: their weights get no gradients, and a frozen batch norm
 * normalises with its moving statistics even in training mode (Keras semantics).
 */
export function freezeLayers(model: tf.LayersModel, layerNames: readonly string[]): void {
  for (const name of layerNames) {
    const layer = model.layers.find((l) => l.name === name);
    if (!layer) throw new FreezeSpecError(`cannot freeze layer '${name}': the model has no such layer`);
    layer.trainable = false;
  }
}

// The architecture as plain data. The default is DSDC-Net from the reference model
// (../shared/reference-model.md): a 3×3 stem, four separable dilated blocks (d = 1, 2, 2, 4)
// with a 2×2 max-pool after the second, global average pooling and a 10-way dense head.
import { CodedError } from '../errors/codedError.js';

export interface BlockSpec {
  filters: number;
  dilation: number;
  /** 2×2 max-pool after this block. */
  poolAfter?: boolean;
}

export interface ModelSpec {
  inputShape: [number, number, number];
  stemFilters: number;
  kernelSize: number;
  blocks: BlockSpec[];
  numClasses: number;
  /** Batch normalisation after every convolution; off only for exact-equivalence tests. */
  batchNorm: boolean;
  bnMomentum: number;
  bnEpsilon: number;
}

export const DEFAULT_MODEL_SPEC: ModelSpec = {
  inputShape: [28, 28, 1],
  stemFilters: 32,
  kernelSize: 3,
  blocks: [
    { filters: 64, dilation: 1 },
    { filters: 64, dilation: 2, poolAfter: true },
    { filters: 128, dilation: 2 },
    { filters: 128, dilation: 4 },
  ],
  numClasses: 10,
  batchNorm: true,
  bnMomentum: 0.99,
  bnEpsilon: 1e-3,
};

export function modelSpecWith(overrides: Partial<ModelSpec>): ModelSpec {
  const spec = { ...DEFAULT_MODEL_SPEC, ...overrides };
  validateModelSpec(spec);
  return spec;
}

/**
 * Bounds a spec must keep before anything is allocated for it. A spec comes from flags, from a
 * checkpoint's state.json and from a coordinator's welcome; any of them may be crafted, and tfjs
 * would build whatever it is told (8192 stem filters took hundreds of MB before any check).
 * Generous next to DSDC-Net (36,554 parameters, ~0.35 M activations per example).
 */
export const MODEL_SPEC_BOUNDS = {
  /** Filters of one convolution (the stem or a block). */
  maxFilters: 1024,
  maxBlocks: 32,
  maxKernelSize: 15,
  maxDilation: 64,
  /** Height or width of the input. */
  maxInputSide: 1024,
  maxInputChannels: 16,
  /** Labels are bytes in IDX files. */
  maxClasses: 256,
  /** Weights, statistics included. */
  maxParameters: 16_000_000,
  /** Values of every layer output for one example: what a forward pass holds per example. */
  maxActivationsPerExample: 8_000_000,
} as const;

export class ModelSpecError extends CodedError<'MODEL_SPEC_INVALID'> {
  constructor(message: string) {
    super('MODEL_SPEC_INVALID', message);
  }
}

/** Parameters and per-example activations a spec implies, computed from its numbers alone. */
export function modelSpecSize(spec: ModelSpec): { parameters: number; activationsPerExample: number } {
  const [height, width, channels] = spec.inputShape;
  const kernel = spec.kernelSize * spec.kernelSize;
  const bn = spec.batchNorm ? 4 : 0;
  let area = height * width;
  let parameters = kernel * channels * spec.stemFilters + bn * spec.stemFilters;
  // Each convolution's output and its normalised copy.
  let activations = 2 * area * spec.stemFilters;
  let inChannels = spec.stemFilters;
  for (const block of spec.blocks) {
    parameters += kernel * inChannels + inChannels * block.filters + bn * block.filters;
    activations += area * inChannels + 2 * area * block.filters;
    if (block.poolAfter) area = Math.floor(area / 4);
    inChannels = block.filters;
  }
  parameters += inChannels * spec.numClasses + spec.numClasses;
  return { parameters, activationsPerExample: activations };
}

/**
 * Checks a spec's form and bounds; `source` names where it came from (a file and field, the
 * welcome, the flags) in the error.
 */
export function checkModelSpec(spec: ModelSpec, source = 'model spec'): void {
  const fail = (message: string): never => {
    throw new ModelSpecError(`${source}: ${message}`);
  };
  if (spec == null || typeof spec !== 'object') fail(`expected an object, got ${JSON.stringify(spec)}`);
  const b = MODEL_SPEC_BOUNDS;
  const integer = (value: unknown, what: string, max: number) => {
    if (!Number.isInteger(value) || (value as number) < 1) fail(`${what} must be a positive integer, got ${JSON.stringify(value)}`);
    if ((value as number) > max) fail(`${what} is ${value}, more than the ${max} this build accepts`);
  };
  if (!Array.isArray(spec.inputShape) || spec.inputShape.length !== 3) {
    fail(`inputShape must be [height, width, channels], got ${JSON.stringify(spec.inputShape)}`);
  }
  integer(spec.inputShape[0], 'inputShape[0]', b.maxInputSide);
  integer(spec.inputShape[1], 'inputShape[1]', b.maxInputSide);
  integer(spec.inputShape[2], 'inputShape[2]', b.maxInputChannels);
  integer(spec.stemFilters, 'stemFilters', b.maxFilters);
  integer(spec.numClasses, 'numClasses', b.maxClasses);
  integer(spec.kernelSize, 'kernelSize', b.maxKernelSize);
  if (spec.kernelSize % 2 !== 1) fail(`kernelSize must be odd, got ${spec.kernelSize}`);
  if (!Array.isArray(spec.blocks) || spec.blocks.length === 0) fail('blocks must be a non-empty list');
  if (spec.blocks.length > b.maxBlocks) fail(`blocks has ${spec.blocks.length} entries, more than the ${b.maxBlocks} this build accepts`);
  spec.blocks.forEach((block, i) => {
    if (block == null || typeof block !== 'object') fail(`blocks[${i}] must be an object, got ${JSON.stringify(block)}`);
    integer(block.filters, `blocks[${i}].filters`, b.maxFilters);
    integer(block.dilation, `blocks[${i}].dilation`, b.maxDilation);
  });
  if (typeof spec.batchNorm !== 'boolean') fail(`batchNorm must be true or false, got ${JSON.stringify(spec.batchNorm)}`);
  if (!(spec.bnMomentum >= 0 && spec.bnMomentum < 1)) fail(`bnMomentum must be in [0, 1), got ${JSON.stringify(spec.bnMomentum)}`);
  if (!(spec.bnEpsilon > 0 && spec.bnEpsilon < 1)) fail(`bnEpsilon must be in (0, 1), got ${JSON.stringify(spec.bnEpsilon)}`);
  const size = modelSpecSize(spec);
  if (size.parameters > b.maxParameters) fail(`the model would have ${size.parameters} parameters, more than the ${b.maxParameters} this build accepts`);
  if (size.activationsPerExample > b.maxActivationsPerExample) {
    fail(`the model would hold ${size.activationsPerExample} activations per example, more than the ${b.maxActivationsPerExample} this build accepts`);
  }
}

export function validateModelSpec(spec: ModelSpec): void {
  checkModelSpec(spec);
}

// The architecture as plain data. The default is DSDC-Net from the reference model
// (../shared/reference-model.md): a 3×3 stem, four separable dilated blocks (d = 1, 2, 2, 4)
// with a 2×2 max-pool after the second, global average pooling and a 10-way dense head.

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

export function validateModelSpec(spec: ModelSpec): void {
  const positiveInt = (value: unknown, what: string) => {
    if (!Number.isInteger(value) || (value as number) < 1) {
      throw new Error(`model spec: ${what} must be a positive integer, got ${JSON.stringify(value)}`);
    }
  };
  if (!Array.isArray(spec.inputShape) || spec.inputShape.length !== 3) {
    throw new Error(`model spec: inputShape must be [height, width, channels], got ${JSON.stringify(spec.inputShape)}`);
  }
  spec.inputShape.forEach((v, i) => positiveInt(v, `inputShape[${i}]`));
  positiveInt(spec.stemFilters, 'stemFilters');
  positiveInt(spec.numClasses, 'numClasses');
  positiveInt(spec.kernelSize, 'kernelSize');
  if (spec.kernelSize % 2 !== 1) throw new Error(`model spec: kernelSize must be odd, got ${spec.kernelSize}`);
  if (!Array.isArray(spec.blocks) || spec.blocks.length === 0) throw new Error('model spec: blocks must be a non-empty list');
  spec.blocks.forEach((block, i) => {
    positiveInt(block.filters, `blocks[${i}].filters`);
    positiveInt(block.dilation, `blocks[${i}].dilation`);
  });
  if (!(spec.bnMomentum >= 0 && spec.bnMomentum < 1)) throw new Error(`model spec: bnMomentum must be in [0, 1), got ${JSON.stringify(spec.bnMomentum)}`);
  if (!(spec.bnEpsilon > 0)) throw new Error(`model spec: bnEpsilon must be positive, got ${JSON.stringify(spec.bnEpsilon)}`);
}

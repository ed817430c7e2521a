// The model module's public face. Importing it registers the custom layers for serialization.
export { buildDsdcNet, trainableParameterCount } from './dsdcNet.js';
export { SeparableDilatedConv2D } from './separableDilatedConv2d.js';
export { BatchNormReLU } from './batchNormRelu.js';
export { DEFAULT_MODEL_SPEC, modelSpecWith, validateModelSpec, type ModelSpec, type BlockSpec } from './spec.js';

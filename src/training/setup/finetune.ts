// Turns "fine-tune this checkpoint" into what any run starts from: a TrainConfig (the checkpoint's
// architecture, the new task's classes, the frozen layers) and the initial weights (the
// checkpoint's, with a freshly initialised head when the task's classes differ). After this a
// fine-tune run is an ordinary run, standalone or distributed, that happens to freeze layers.
import { MNIST_NUM_CLASSES } from '../../data/types.js';
import type { Logger } from '../../log/logger.js';
import { buildDsdcNet } from '../../model/dsdcNet.js';
import { checkModelSpec, type ModelSpec } from '../../model/spec.js';
import { type TrainConfig, validateTrainConfig } from './config.js';
import { freezeLayers, parseFreezeSpec, resolveFreezeSpec } from '../replica/freeze.js';
import { loadCheckpointModel } from '../../inference/loadModel.js';
import { layerOf, namedVariables, trainableVariables, variableShapes } from '../replica/variables.js';
import { TrainingError } from '../errors.js';

/** The layer that maps features to class scores; replaced when the task's classes change. */
export const HEAD_LAYER = 'head';
export const DEFAULT_FREEZE_SPEC = 'all-but-last:2';
export const DEFAULT_FINETUNE_LEARNING_RATE = 1e-4;
/**
 * A new head learns from nothing: at the kept layers' 1e-4 it barely moved in a short run (5 steps
 * ended below chance: 14.5% on 5 classes, 8% on Fashion-MNIST). On fixed features it is a softmax
 * regression, which takes a high rate: the README's 5-step MNIST → Fashion-MNIST example reached
 * 18.8% test accuracy at 3e-3 (the from-scratch rate) and 28% at 1e-2 (2,000 test images).
 */
export const DEFAULT_NEW_HEAD_LEARNING_RATE = 1e-2;

/**
 * A new head starts at zero: every class gets the same score, the loss starts at ln K, and the
 * first steps move it by the data's gradients alone. A random (Glorot) head on features it was
 * not trained with started confidently wrong (loss 2.72 on Fashion-MNIST's 10 classes, above
 * ln 10 = 2.30) and a short run ended below chance. With fixed features the head is a softmax
 * regression, convex, so zero is a sound start; the layers under it get gradients from the
 * second step on.
 */
export function zeroHead(shapes: ReadonlyMap<string, number[]>): Map<string, Float32Array> {
  return new Map([...shapes].map(([name, shape]) => [name, new Float32Array(shape.reduce((a, b) => a * b, 1))]));
}

/** Factors on the learning rate per trainable weight: the head's when it has its own rate. */
export function learningRateFactors(config: Pick<TrainConfig, 'learningRate' | 'headLearningRate'>, trainable: readonly string[]): Map<string, number> {
  const factors = new Map<string, number>();
  if (config.headLearningRate === undefined) return factors;
  for (const name of trainable) if (layerOf(name) === HEAD_LAYER) factors.set(name, config.headLearningRate / config.learningRate);
  return factors;
}

export interface FinetuneRequest {
  /** A checkpoint directory, or a run directory (its newest valid checkpoint). */
  from: string;
  /** The --freeze spec as written. */
  freeze: string;
  /** Replace the head even when the class count is unchanged (e.g. a new dataset). */
  newHead: boolean;
  /** The run's flags; its model spec is ignored (the architecture is the checkpoint's), but for the batch norm momentum. */
  config: TrainConfig;
  /** --head-lr; absent: DEFAULT_NEW_HEAD_LEARNING_RATE for a new head, --lr for a kept one. */
  headLearningRate?: number;
}

export interface PreparedFinetune {
  config: TrainConfig;
  initialWeights: Map<string, Float32Array>;
  /** The checkpoint directory actually read. */
  sourceDir: string;
  frozenLayers: string[];
  trainableParameters: number;
  totalParameters: number;
}

interface SavedConfig {
  model?: ModelSpec;
  classes?: number[];
}

export async function prepareFinetune(request: FinetuneRequest, log: Logger): Promise<PreparedFinetune> {
  const spec = parseFreezeSpec(request.freeze);
  const loaded = await loadCheckpointModel(request.from, (m) => log.warn(m)).catch((error: Error) => {
    throw new TrainingError('FINETUNE_SOURCE', `--from ${request.from}: ${error.message}`);
  });
  const source = new Map(namedVariables(loaded.model).map((v) => [v.name, (v.variable.dataSync() as Float32Array).slice()]));
  loaded.model.dispose();
  const saved = (loaded.state as { config?: SavedConfig }).config;
  if (!saved?.model) throw new TrainingError('FINETUNE_SOURCE', `--from ${request.from}: checkpoint ${loaded.dir} has no run config (state.json config.model); only checkpoints written by dsdc-dist training can be fine-tuned`);
  checkModelSpec(saved.model, `${loaded.dir}/state.json: config.model`);
  if (saved.model.batchNorm && !request.config.model.batchNorm) {
    throw new TrainingError('FINETUNE_SOURCE', `--no-batch-norm: checkpoint ${loaded.dir} has batch norm, and a fine-tune run keeps the architecture of its checkpoint`);
  }

  const numClasses = request.config.classes?.length ?? MNIST_NUM_CLASSES;
  const headReasons: string[] = [];
  if (request.newHead) headReasons.push('--new-head');
  if (numClasses !== saved.model.numClasses) headReasons.push(`the checkpoint's head has ${saved.model.numClasses} classes, this run has ${numClasses}`);
  else if (JSON.stringify(saved.classes ?? null) !== JSON.stringify(request.config.classes ?? null)) {
    const describe = (c?: number[]) => (c ? `classes ${c.join(',')}` : 'all classes');
    headReasons.push(`the checkpoint was trained on ${describe(saved.classes)}, this run on ${describe(request.config.classes)}`);
  }
  const newHead = headReasons.length > 0;

  // The momentum is how the statistics are averaged, not the architecture: this run's (or chosen for its steps).
  const modelSpec: ModelSpec = { ...saved.model, numClasses, bnMomentum: request.config.model.bnMomentum };
  const model = buildDsdcNet(modelSpec);
  try {
    const frozenLayers = resolveFreezeSpec(spec, model, request.freeze);
    if (newHead && frozenLayers.includes(HEAD_LAYER)) {
      throw new TrainingError('FINETUNE_SOURCE', `--freeze '${request.freeze}' freezes '${HEAD_LAYER}', but this run needs a new head (${headReasons.join('; ')}): leave '${HEAD_LAYER}' trainable`);
    }
    freezeLayers(model, frozenLayers);
    const shapes = variableShapes(namedVariables(model));
    const headShapes = new Map([...shapes].filter(([name]) => layerOf(name) === HEAD_LAYER));
    const freshHead = newHead ? zeroHead(headShapes) : new Map<string, Float32Array>();
    const initialWeights = new Map<string, Float32Array>();
    for (const [name, shape] of shapes) {
      const values = freshHead.get(name) ?? source.get(name);
      const size = shape.reduce((a, b) => a * b, 1);
      if (!values) throw new TrainingError('FINETUNE_SOURCE', `--from ${request.from}: checkpoint ${loaded.dir} has no variable "${name}"`);
      if (values.length !== size) throw new TrainingError('FINETUNE_SOURCE', `--from ${request.from}: "${name}" has ${values.length} values in checkpoint ${loaded.dir}, the model needs ${size}`);
      initialWeights.set(name, values);
    }
    const totalParameters = [...initialWeights.values()].reduce((sum, v) => sum + v.length, 0);
    const trainableParameters = trainableVariables(model).reduce((sum, v) => sum + v.variable.size, 0);

    const headLearningRate = request.headLearningRate ?? (newHead ? DEFAULT_NEW_HEAD_LEARNING_RATE : undefined);
    if (newHead) log.debug(`new head: ${headReasons.join('; ')}; "${HEAD_LAYER}" starts at zero with ${numClasses} outputs`);
    if (headLearningRate !== undefined) log.debug(`"${HEAD_LAYER}" learns at ${headLearningRate} (--head-lr), the other trained layers at ${request.config.learningRate} (--lr)`);
    const trained = model.layers.filter((l) => l.weights.length > 0 && !frozenLayers.includes(l.name)).map((l) => l.name);
    log.debug(
      `fine-tuning ${loaded.dir}: --freeze ${request.freeze} freezes ${frozenLayers.length ? frozenLayers.join(', ') : 'nothing'}; ` +
        `trains ${trained.join(', ')} (${trainableParameters.toLocaleString('en-US')} of ${totalParameters.toLocaleString('en-US')} values)`,
    );
    const config = validateTrainConfig({
      ...request.config,
      model: modelSpec,
      frozenLayers,
      finetune: { from: loaded.dir, freeze: request.freeze, newHead },
      ...(headLearningRate === undefined ? {} : { headLearningRate }),
    });
    return { config, initialWeights, sourceDir: loaded.dir, frozenLayers, trainableParameters, totalParameters };
  } finally {
    model.dispose();
  }
}

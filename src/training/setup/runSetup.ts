// Everything a run needs before its first step, the same for the standalone worker and the
// coordinator: the data (with limits applied), the master state (fresh from the seed or
// resumed from the run directory's newest valid checkpoint, or given, as a fine-tune run's are), a
// local model for evaluation and checkpoints (with the run's frozen layers), and the checkpoint writer.
import * as tf from '@tensorflow/tfjs';
import { loadLayersModelFrom } from '../../checkpoint/tfjsFiles.js';
import { listCheckpoints, loadCheckpoint, saveCheckpoint } from '../../checkpoint/checkpoint.js';
import { limitSplit } from '../../data/batching.js';
import type { Split } from '../../data/types.js';
import type { Logger } from '../../log/logger.js';
import { buildDsdcNet } from '../../model/dsdcNet.js';
import { checkModelSpec, type ModelSpec } from '../../model/spec.js';
import { type TrainConfig, validateTrainConfig } from './config.js';
import { freezeLayers } from '../replica/freeze.js';
import { explainResume, refuseRunDirReuse } from './resumeFlags.js';
import { seededInitialWeights } from './initialWeights.js';
import { MasterState } from '../optimizer/masterState.js';
import { readRunState, type RunState } from './runState.js';
import { checkResumedState } from './resumeChecks.js';
import { loadTrainingData, type TrainingData } from './trainingData.js';
import { settleBatchNormMomentum } from './batchNormMomentum.js';
import { movingStatisticVariables, namedVariables, trainableVariables, variableShapes } from '../replica/variables.js';
import { TrainingError } from '../errors.js';
import { splitValidation } from '../../data/validationSplit.js';
import type { SelectionState } from '../../schemas/runState.js';
import { BEST_CHECKPOINT } from '../../checkpoint/checkpoint.js';
import { recordSettings } from './runSettings.js';

export interface PreparedRun {
  config: TrainConfig;
  dataset: TrainingData;
  train: Split;
  test: Split;
  state: MasterState;
  localModel: tf.LayersModel;
  syncLocalModel: () => tf.LayersModel;
  /** Writes a checkpoint of `state` (with where model selection stands) as step-<step>, or as checkpoints/best. */
  saveCheckpoint: (state: MasterState, selection?: SelectionState, as?: typeof BEST_CHECKPOINT) => Promise<string>;
  resumedFrom?: string;
  /** With --val-split: the examples training draws from (indices into `train`) and the held-out ones. */
  trainIndices?: Int32Array;
  validation?: Split;
  /** Model selection as the resumed checkpoint left it. */
  selection?: SelectionState;
}

/** What every training loop (standalone, coordinator) passes to runSession from its prepared run. */
export function sessionInputs(run: PreparedRun, runDir: string) {
  return {
    config: run.config,
    runDir,
    train: run.train,
    test: run.test,
    datasetName: run.dataset.name,
    numClasses: run.config.model.numClasses,
    state: run.state,
    syncLocalModel: run.syncLocalModel,
    saveCheckpoint: run.saveCheckpoint,
    trainIndices: run.trainIndices,
    validation: run.validation,
    selection: run.selection,
  };
}

/**
 * `initialWeights` (every variable, by name) replace the seeded ones of a new run: a fine-tune run
 * starts from its source checkpoint's weights. A resumed run ignores them.
 */
export async function prepareRun(
  requested: TrainConfig,
  runDir: string,
  resume: boolean,
  log: Logger,
  initialWeights?: Map<string, Float32Array>,
  /** The flags the user typed, so that a resume says which of them it applies and which it ignores. */
  givenFlags: ReadonlySet<string> = new Set(),
  /** The resolved settings (config.yaml's text), recorded in the run directory once it is known to be this run's. */
  settings?: string,
): Promise<PreparedRun> {
  let config = validateTrainConfig(requested);
  if (!resume) await refuseRunDirReuse(runDir);
  let saved: { dir: string; weights: Map<string, Float32Array>; run: RunState; optimizer: Parameters<MasterState['restoreOptimizer']>[0] } | undefined;
  if (resume && (await listCheckpoints(runDir)).length === 0) {
    log.info(`--resume: ${runDir} has no checkpoint yet; starting a new run there`);
  } else if (resume) {
    const loaded = await loadCheckpoint(runDir, { log: (m) => log.warn(m) });
    checkModelSpec((loaded.state as { config?: { model?: ModelSpec } }).config?.model as ModelSpec, `${loaded.dir}/state.json: config.model`);
    const model = await loadLayersModelFrom(loaded.modelArtifactsHandler, loaded.dir);
    const weights = new Map(namedVariables(model).map((v) => [v.name, (v.variable.dataSync() as Float32Array).slice()]));
    model.dispose();
    const run = readRunState(loaded.state, loaded.dir);
    try {
      const optimizer = new Map(loaded.optimizerWeights.map((t) => [t.name, t.tensor.dataSync() as Float32Array]));
      checkResumedState(loaded.dir, weights, optimizer, run.adamStep);
    } catch (error) {
      tf.dispose(loaded.optimizerWeights.map((t) => t.tensor));
      throw error;
    }
    const { applied, ignored } = explainResume(run.config, requested, givenFlags);
    if (applied.length > 0) log.info(`--resume: applying ${applied.join(', ')}`);
    if (ignored.length > 0) log.warn(`--resume: ignoring ${ignored.join(', ')}: a resumed run keeps its checkpoint's config; start a new run in another --run-dir to change them`);
    config = { ...run.config, epochs: requested.epochs, maxSteps: requested.maxSteps, checkpointEvery: requested.checkpointEvery, maxGradNorm: requested.maxGradNorm, gradNormBound: requested.gradNormBound };
    saved = { dir: loaded.dir, weights, run, optimizer: loaded.optimizerWeights };
    log.info(`resuming from ${loaded.dir} at step ${run.position.globalStep} (epoch ${run.position.epoch + 1}, step ${run.position.stepInEpoch} of it)`);
  }
  if (settings !== undefined) await recordSettings(runDir, settings, resume);

  const dataset = await loadTrainingData(config, (m) => log.debug(m));
  const train = limitSplit(dataset.train, config.trainLimit);
  const test = limitSplit(dataset.test, config.testLimit);
  if (dataset.numClasses !== config.model.numClasses) config = { ...config, model: { ...config.model, numClasses: dataset.numClasses } };
  const held = config.valSplit ? splitValidation(train, config.valSplit, config.seed) : undefined;
  const trainCount = held?.trainIndices.length ?? train.count;
  if (held) log.info(`--val-split ${config.valSplit}: ${held.validation.count} training examples held out for validation, ${trainCount} left to train on`);
  if (trainCount < config.batchSize) {
    throw new TrainingError('DATA_TOO_SMALL', `--batch-size ${config.batchSize} is larger than the training set (${trainCount} examples); lower it or raise --train-limit`);
  }
  // A resumed run keeps its checkpoint's momentum (the flag is gone from a saved config).
  const settled = settleBatchNormMomentum(config, train.count);
  config = settled.config;
  if (settled.chosen && config.model.batchNorm) {
    log.debug(`batch norm momentum ${settled.chosen.momentum}, chosen for ${settled.chosen.steps} planned steps (moving statistics averaged over the last ~${Math.round(1 / (1 - settled.chosen.momentum))} steps; --bn-momentum sets it)`);
  }

  const localModel = buildDsdcNet(config.model);
  freezeLayers(localModel, config.frozenLayers ?? []);
  const variables = namedVariables(localModel);
  const shapes = variableShapes(variables);
  const trainable = trainableVariables(localModel).map((v) => v.name);
  const moving = movingStatisticVariables(localModel).map((v) => v.name);
  if (!saved && initialWeights) checkInitialWeights(initialWeights, shapes);
  const startWeights = saved?.weights ?? initialWeights ?? seededInitialWeights(shapes, config.seed);
  const state = MasterState.fresh(startWeights, shapes, trainable, moving);
  if (saved) {
    state.restoreOptimizer(saved.optimizer, saved.run.adamStep, saved.dir);
    tf.dispose(saved.optimizer.map((t) => t.tensor));
    state.position = saved.run.position;
    state.weightsVersion = saved.run.weightsVersion;
  }

  const syncLocalModel = () => {
    tf.tidy(() => {
      for (const v of variables) v.variable.assign(tf.tensor(state.weights.get(v.name)!, v.variable.shape));
    });
    return localModel;
  };
  const save = async (s: MasterState, selection?: SelectionState, as?: typeof BEST_CHECKPOINT) => {
    syncLocalModel();
    const optimizerWeights = s.optimizerTensors();
    try {
      const runState: RunState = { step: s.position.globalStep, position: s.position, adamStep: s.adam.step, weightsVersion: s.weightsVersion, config, ...(selection ? { selection } : {}) };
      return await saveCheckpoint(runDir, { model: localModel, optimizerWeights, state: { ...runState } }, as ? { as } : {});
    } finally {
      tf.dispose(optimizerWeights.map((t) => t.tensor));
    }
  };
  return {
    config,
    dataset,
    train,
    test,
    state,
    localModel,
    syncLocalModel,
    saveCheckpoint: save,
    resumedFrom: saved?.dir,
    ...(held ? { trainIndices: held.trainIndices, validation: held.validation } : {}),
    ...(saved?.run.selection ? { selection: saved.run.selection } : {}),
  };
}

function checkInitialWeights(weights: ReadonlyMap<string, Float32Array>, shapes: ReadonlyMap<string, number[]>): void {
  for (const [name, shape] of shapes) {
    const size = shape.reduce((a, b) => a * b, 1);
    const values = weights.get(name);
    if (!values) throw new TrainingError('WEIGHTS_MISMATCH', `initial weights lack "${name}" (shape [${shape.join(', ')}])`);
    if (values.length !== size) throw new TrainingError('WEIGHTS_MISMATCH', `initial weights: "${name}" has ${values.length} values, the model needs ${size} (shape [${shape.join(', ')}])`);
  }
}

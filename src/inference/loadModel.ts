// Loads the model of a checkpoint (a checkpoint dir or a run dir: its newest valid one).
import * as tf from '@tensorflow/tfjs';
import { loadLayersModelFrom } from '../checkpoint/tfjsFiles.js';
import { loadCheckpoint } from '../checkpoint/checkpoint.js';
import '../model/index.js';

export async function loadCheckpointModel(path: string, warn: (m: string) => void): Promise<{ model: tf.LayersModel; dir: string; state: Record<string, unknown> }> {
  const loaded = await loadCheckpoint(path, { log: warn });
  tf.dispose(loaded.optimizerWeights.map((t) => t.tensor));
  const model = await loadLayersModelFrom(loaded.modelArtifactsHandler, loaded.dir);
  return { model, dir: loaded.dir, state: loaded.state };
}

// The data a run trains and evaluates on: the MNIST-format dataset of the config, restricted to
// `config.classes` (relabelled 0..K-1) when the run names some. The coordinator, the standalone
// worker and every remote worker load it through here, so the same index means the same example.
import { filterClasses } from '../data/batching.js';
import { loadDataset } from '../data/mnist.js';
import type { Split } from '../data/types.js';
import type { TrainConfig } from './config.js';

export interface TrainingData {
  name: string;
  train: Split;
  test: Split;
  numClasses: number;
}

export async function loadTrainingData(config: Pick<TrainConfig, 'dataDir' | 'classes'>, log: (message: string) => void, dataDir = config.dataDir): Promise<TrainingData> {
  const dataset = await loadDataset({ dataDir, log });
  if (!config.classes) return { name: dataset.name, train: dataset.train, test: dataset.test, numClasses: dataset.numClasses };
  const classes = config.classes;
  const outside = classes.find((c) => c >= dataset.numClasses);
  if (outside !== undefined) throw new Error(`--classes: class ${outside} is not in ${dataset.name}, whose classes are 0..${dataset.numClasses - 1}`);
  const train = filterClasses(dataset.train, classes);
  const test = filterClasses(dataset.test, classes);
  log(`${dataset.name}: classes ${classes.join(',')} only (as labels 0..${classes.length - 1}): ${train.count} train / ${test.count} test images`);
  return { name: `${dataset.name}[${classes.join(',')}]`, train, test, numClasses: classes.length };
}

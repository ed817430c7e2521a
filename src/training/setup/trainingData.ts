// The data a run trains and evaluates on: the MNIST-format dataset of the config, restricted to
// `config.classes` (relabelled 0..K-1) when the run names some. The coordinator and the standalone
// worker load it whole through here; a distributed worker opens it for reading example by example
// (openTrainingExamples). Both number examples the same way, so an index means the same example.
import { filterClasses } from '../../data/batching.js';
import { cachedTrainExamples } from '../../data/cachedExamples.js';
import { splitExamples, type ExampleSource } from '../../data/examples.js';
import { loadDataset, openDatasetCache } from '../../data/mnist.js';
import type { Split } from '../../data/types.js';
import type { TrainConfig } from './config.js';
import { TrainingError } from '../errors.js';

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
  checkClassesExist(classes, dataset.name, dataset.numClasses);
  const train = filterClasses(dataset.train, classes);
  const test = filterClasses(dataset.test, classes);
  log(`${dataset.name}: classes ${classes.join(',')} only (as labels 0..${classes.length - 1}): ${train.count} train / ${test.count} test images`);
  return { name: `${dataset.name}[${classes.join(',')}]`, train, test, numClasses: classes.length };
}

export interface TrainingExamples {
  name: string;
  train: ExampleSource;
  numClasses: number;
  /** What the worker has read of the training images, for its log; undefined when held in memory. */
  readStats(): { imagesRead: number; distinctRead: number; count: number } | undefined;
  close(): Promise<void>;
}

/**
 * The training split for a distributed worker: read from the verified cache one example at a
 * time, so that the worker holds only the examples it is asked for. Where no cache can be written
 * it falls back to holding the whole split in memory, and says so.
 */
export async function openTrainingExamples(config: Pick<TrainConfig, 'dataDir' | 'classes'>, log: (message: string) => void, dataDir = config.dataDir): Promise<TrainingExamples> {
  const opened = await openDatasetCache({ dataDir, log });
  const classes = config.classes;
  if ('data' in opened) {
    log(`warning: no dataset cache could be written, so this worker holds the whole training set in memory`);
    const { numClasses } = opened.data;
    if (classes) checkClassesExist(classes, opened.name, numClasses);
    const train = classes ? filterClasses(opened.data.train, classes) : opened.data.train;
    return { name: opened.name, train: splitExamples(train), numClasses: classes?.length ?? numClasses, readStats: () => undefined, close: async () => undefined };
  }
  const { cache } = opened;
  try {
    if (classes) checkClassesExist(classes, opened.name, cache.layout.numClasses);
    const train = cachedTrainExamples(cache, { classes });
    log(`${opened.name}: reading the ${train.count} training examples${classes ? ` of classes ${classes.join(',')}` : ''} one at a time from ${cache.file}, as steps ask for them`);
    return {
      name: opened.name,
      train,
      numClasses: classes?.length ?? cache.layout.numClasses,
      readStats: () => ({ imagesRead: train.imagesRead, distinctRead: train.distinctRead, count: train.count }),
      close: () => train.close(),
    };
  } catch (err) {
    await cache.handle.close();
    throw err;
  }
}

function checkClassesExist(classes: number[], datasetName: string, numClasses: number): void {
  const outside = classes.find((c) => c >= numClasses);
  if (outside !== undefined) throw new TrainingError('CLASSES_NOT_IN_DATASET', `--classes: class ${outside} is not in ${datasetName}, whose classes are 0..${numClasses - 1}`);
}

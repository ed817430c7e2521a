// Renders a run report as ONE self-contained HTML file: tables (run config, timings, per-class
// metrics, confusion-matrix heatmap) are rendered here as HTML; the curves and the grid of
// misclassified digits are drawn in the page by page/report.js with Chart.js, both inlined,
// from the data embedded as JSON. No URL is loaded, so the file works offline and by e-mail.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chartLibrarySource, SMOOTHING_JS_FILE, STEP_PHASES_JS_FILE, THEME_CSS_FILE } from '../browser/sharedAssets.js';
import type { EvaluationReport } from '../metrics/classification.js';
import type { ModelSpec } from '../model/spec.js';
import type { TrainConfig } from '../training/setup/config.js';
import type { StepTimings } from '../training/loop/source.js';
import type { Misclassification } from './misclassified.js';
import type { RunRecords } from './runRecords.js';

const PAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), 'page');

/** Digits for losses and ratios in the report (matches `evaluate`'s text output). */
export const REPORT_DIGITS = 4;

export interface ReportModel {
  runDir: string;
  generatedAt: string;
  checkpoint: { dir: string; step?: number };
  config?: TrainConfig;
  dataset: { name: string; examples: number; rows: number; cols: number };
  /** The backend the report evaluated the checkpoint with. */
  backend: string;
  records: RunRecords;
  evaluation: EvaluationReport;
  /** Worst wrong predictions, with the image's grey levels (rows×cols bytes) in base64. */
  misclassified: Array<Misclassification & { pixels: string }>;
}

/** Names of the figures (data-figure attributes); `--png` writes one PNG per name. */
export const FIGURES = ['loss', 'accuracy', 'throughput', 'step-time', 'confusion-matrix', 'per-class', 'misclassified'] as const;

const TIMING_LABELS: Array<[keyof StepTimings, string]> = [
  ['compute', 'compute (forward + backward on workers)'],
  ['encode', 'encode gradients'],
  ['transfer', 'transfer'],
  ['wait_for_slowest', 'wait for the slowest worker'],
  ['aggregate', 'decode and average gradients'],
  ['apply', 'apply (Adam)'],
  ['broadcast', 'broadcast weights'],
  ['total', 'total step'],
];

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON that is safe inside a <script> element (no `</script>`, no `<!--`). */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** Script source that cannot end its <script> element early. */
export function inlineScript(source: string): string {
  return source.replace(/<\/script/gi, '<\\/script');
}

/** The final training loss: the summary's, or the last step's if the run has no summary yet. */
export function finalLoss(records: RunRecords): number {
  return records.summary?.final_loss ?? records.steps[records.steps.length - 1].loss;
}

/** Mean time per step phase: the summary's, else the mean over the logged steps. */
export function meanTimings(records: RunRecords): StepTimings {
  if (records.summary) return records.summary.step_timings_ms;
  const sum: Record<string, number> = {};
  for (const { timings_ms: timings } of records.steps) {
    for (const [key, value] of Object.entries(timings)) sum[key] = (sum[key] ?? 0) + (value ?? 0);
  }
  const n = records.steps.length;
  return Object.fromEntries(Object.entries(sum).map(([k, v]) => [k, v / n])) as unknown as StepTimings;
}

function fixed(x: number | undefined, digits = REPORT_DIGITS): string {
  return x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(digits);
}

function percent(x: number | undefined): string {
  return x === undefined || Number.isNaN(x) ? 'n/a' : `${(100 * x).toFixed(2)}%`;
}

function table(head: string[], rows: string[][], className = ''): string {
  const th = head.map((h) => `<th>${h}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('\n');
  return `<table class="${className}"><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function keyNumbers(m: ReportModel): string {
  const last = m.records.steps[m.records.steps.length - 1];
  const s = m.records.summary;
  const tiles: Array<[string, string, string]> = [
    ['final-loss', 'final training loss', fixed(finalLoss(m.records))],
    ['test-accuracy', `test accuracy (${m.dataset.examples} images)`, percent(m.evaluation.accuracy)],
    ['macro-f1', 'macro F1', fixed(m.evaluation.macro.f1)],
    ['macro-auc', 'macro ROC AUC', fixed(m.evaluation.macro.rocAuc)],
    ['steps', 'steps', s ? `${s.steps} (${s.epochs.toFixed(2)} epochs)` : `${last.step} of ${last.total_steps}`],
    ['images-per-s', 'images/s', (s?.images_per_s ?? last.images_per_s).toFixed(1)],
    ['workers', 'workers', String(last.workers)],
    ['wall', 'wall time', s ? `${s.wall_s.toFixed(1)} s` : 'run not finished'],
  ];
  return tiles.map(([id, label, value]) => `<div data-key="${id}"><span class="label">${escapeHtml(label)}</span><span class="value">${escapeHtml(value)}</span></div>`).join('\n');
}

/** e.g. "input 28×28×1, stem 32, blocks 64 d1 · 64 d2 + pool · 128 d2 · 128 d4, kernel 3, 10 classes, batch norm". */
export function describeModel(spec: ModelSpec): string {
  const blocks = spec.blocks.map((b) => `${b.filters} d${b.dilation}${b.poolAfter ? ' + pool' : ''}`).join(' · ');
  const norm = spec.batchNorm ? `batch norm (momentum ${spec.bnMomentum}, ε ${spec.bnEpsilon})` : 'no batch norm';
  return `input ${spec.inputShape.join('×')}, stem ${spec.stemFilters}, blocks ${blocks}, kernel ${spec.kernelSize}, ${spec.numClasses} classes, ${norm}`;
}

function configTable(m: ReportModel): string {
  const c = m.config;
  const s = m.records.summary;
  const rows: Array<[string, string]> = [
    ['run directory', m.runDir],
    ['checkpoint', m.checkpoint.dir + (m.checkpoint.step !== undefined ? ` (step ${m.checkpoint.step})` : '')],
    ['dataset', `${m.dataset.name}, evaluated on ${m.dataset.examples} test images (${m.dataset.rows}×${m.dataset.cols})`],
    ['evaluated with backend', m.backend],
  ];
  if (c) {
    rows.push(
      ['epochs', String(c.epochs)],
      ['global batch', String(c.batchSize)],
      ['learning rate', `${c.learningRate} (${c.schedule}, ${c.warmupSteps} warm-up steps)`],
      ['max steps', c.maxSteps > 0 ? String(c.maxSteps) : 'all epochs'],
      ['augmentation', c.augmentShift > 0 ? `random shift up to ${c.augmentShift} px` : 'none'],
      ['train / test limit', `${c.trainLimit || 'all'} / ${c.testLimit || 'all'}`],
      ['seed', String(c.seed)],
      ['checkpoint every', `${c.checkpointEvery} steps`],
      ['model', describeModel(c.model)],
    );
  }
  if (s) rows.push(['bytes on the wire per step', `${Math.round(s.bytes_per_step).toLocaleString('en-US')} B`], ['interrupted', String(s.interrupted)]);
  return table(['setting', 'value'], rows.map(([k, v]) => [escapeHtml(k), `<code>${escapeHtml(v)}</code>`]), 'config');
}

function timingsTable(m: ReportModel): string {
  const t = meanTimings(m.records);
  const total = t.total ?? 0;
  const rows = TIMING_LABELS.filter(([k]) => t[k] !== undefined).map(([k, label]) => [
    escapeHtml(label),
    (t[k] as number).toFixed(2),
    k === 'total' || total <= 0 ? '' : `${((100 * (t[k] as number)) / total).toFixed(1)}%`,
  ]);
  return table(['phase', 'mean ms', 'of total'], rows, 'numeric');
}

/** Rows = true class, columns = predicted; cell shade = share of the true class's examples. */
function confusionHeatmap(cm: number[][]): string {
  const k = cm.length;
  const head = `<tr><th class="corner">true \\ predicted</th>${cm.map((_, j) => `<th>${j}</th>`).join('')}<th>total</th></tr>`;
  const rows = cm.map((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    const cells = row.map((count, j) => {
      const share = total > 0 ? count / total : 0;
      const hue = i === j ? '215, 80%' : '4, 75%';
      const lightness = 97 - Math.round(share * 55);
      const ink = lightness < 62 ? '#fff' : '#1d2433';
      return `<td style="background:hsl(${hue}, ${lightness}%);color:${ink}" title="true ${i}, predicted ${j}: ${count} (${(100 * share).toFixed(1)}%)">${count}</td>`;
    });
    return `<tr><th>${i}</th>${cells.join('')}<td class="total">${total}</td></tr>`;
  });
  return `<table class="heatmap" data-classes="${k}"><thead>${head}</thead><tbody>${rows.join('\n')}</tbody></table>`;
}

function perClassTable(e: EvaluationReport): string {
  const rows = e.perClass.map((m) => [String(m.class), fixed(m.precision), fixed(m.recall), fixed(m.f1), fixed(e.rocAuc[m.class]), String(m.support)]);
  rows.push(['macro', fixed(e.macro.precision), fixed(e.macro.recall), fixed(e.macro.f1), fixed(e.macro.rocAuc), String(e.perClass.reduce((s, m) => s + m.support, 0))]);
  return table(['class', 'precision', 'recall', 'F1', 'ROC AUC', 'support'], rows, 'numeric per-class');
}

function misclassifiedGrid(m: ReportModel): string {
  if (m.misclassified.length === 0) return '<p class="muted">No test image was misclassified.</p>';
  const cells = m.misclassified.map(
    (x) =>
      `<div class="digit"><canvas width="${m.dataset.cols}" height="${m.dataset.rows}" data-pixels="${x.pixels}"></canvas>` +
      `<span>true <b>${x.label}</b> → <b class="wrong">${x.predicted}</b></span><span class="muted">${(100 * x.confidence).toFixed(1)}% · #${x.index}</span></div>`,
  );
  return `<div class="digits">${cells.join('\n')}</div>`;
}

function figure(name: (typeof FIGURES)[number], caption: string, body: string, className = ''): string {
  return `<figure class="panel ${className}" data-figure="${name}"><figcaption>${caption}</figcaption>${body}</figure>`;
}

function chartFigure(name: (typeof FIGURES)[number], caption: string): string {
  return figure(name, caption, `<div class="chart-box"><canvas id="${name}-chart"></canvas></div>`);
}

/** Only what the charts need, so the embedded JSON stays small for long runs. */
function chartData(m: ReportModel) {
  return {
    steps: m.records.steps.map((s) => [s.step, s.loss, s.accuracy, s.images_per_s, s.epoch]),
    epochs: m.records.epochs.map((e) => ({
      epoch: e.epoch,
      loss: e.loss,
      train_accuracy: e.train_accuracy,
      test_accuracy: e.test_accuracy ?? null,
      val_loss: e.val_loss ?? null,
      val_accuracy: e.val_accuracy ?? null,
    })),
    finalTestAccuracy: m.evaluation.accuracy,
    checkpointStep: m.checkpoint.step ?? null,
    timings: meanTimings(m.records),
  };
}

export function renderReportHtml(m: ReportModel): string {
  const css = [readFileSync(THEME_CSS_FILE, 'utf8'), readFileSync(join(PAGE_DIR, 'report.css'), 'utf8')].join('\n');
  const script = [STEP_PHASES_JS_FILE, SMOOTHING_JS_FILE, join(PAGE_DIR, 'report.js')].map((file) => readFileSync(file, 'utf8')).join('\n');
  const title = `dsdc-dist report · ${m.runDir}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="dsdc-dist report">
<title>${escapeHtml(title)}</title>
<style>
${css}
</style>
</head>
<body>
<header>
<h1>DSDC-Net training report</h1>
<p class="muted">${escapeHtml(m.runDir)} · generated ${escapeHtml(m.generatedAt)}</p>
</header>
<section class="numbers">
${keyNumbers(m)}
</section>
<p class="controls"><label for="smoothing">smoothing</label> <input type="range" id="smoothing" min="0" max="0.99" step="0.01"> <output id="smoothing-value" for="smoothing"></output> <span class="muted">exponential moving average, bias-corrected as in TensorBoard</span></p>
<section class="grid">
${chartFigure('loss', 'Loss per step (batch, smoothed), per training epoch and on the validation set')}
${chartFigure('accuracy', 'Accuracy: training batches (smoothed), training epochs, validation and test sets')}
${chartFigure('throughput', 'Throughput (images/s)')}
${chartFigure('step-time', 'Mean step time by phase (ms)')}
</section>
<section class="grid">
${figure('confusion-matrix', `Confusion matrix (${m.dataset.examples} test images; shade = share of the true class)`, confusionHeatmap(m.evaluation.confusionMatrix))}
${figure('per-class', 'Per-class precision, recall, F1 and ROC AUC', perClassTable(m.evaluation))}
</section>
${figure('misclassified', `Most confident mistakes (${m.misclassified.length} of ${m.evaluation.confusionMatrix.reduce((s, r, i) => s + r.reduce((a, b) => a + b, 0) - r[i], 0)} wrong)`, misclassifiedGrid(m), 'wide')}
<section class="grid">
<section class="panel"><h2>Run configuration</h2>${configTable(m)}</section>
<section class="panel"><h2>Step timings</h2>${timingsTable(m)}</section>
</section>
<script type="application/json" id="report-data">${jsonForScript(chartData(m))}</script>
<script>
${inlineScript(chartLibrarySource())}
</script>
<script>
${inlineScript(script)}
</script>
</body>
</html>
`;
}

// Renders an EvaluationReport as a fixed-width text block for terminals and logs.

import type { EvaluationReport } from './classification.js';

/** Digits after the decimal point for ratios (precision, recall, F1, AUC, accuracy). */
export const RATIO_DIGITS = 4;

const COLUMN_GAP = '  ';

function ratio(x: number): string {
  return Number.isNaN(x) ? 'n/a' : x.toFixed(RATIO_DIGITS);
}

/** Right-aligns every column to its widest cell; the first row is the header. */
function alignRows(rows: string[][]): string[] {
  const widths = rows[0].map((_, col) => Math.max(...rows.map((r) => r[col].length)));
  return rows.map((r) => r.map((cell, col) => cell.padStart(widths[col])).join(COLUMN_GAP));
}

/**
 * A readable text block: accuracy, a table of per-class precision/recall/F1/AUC/support with
 * a macro-average row, then the confusion matrix (rows = true class, columns = predicted).
 * Undefined AUCs print as "n/a".
 */
export function formatEvaluation(report: EvaluationReport): string {
  const total = report.perClass.reduce((sum, m) => sum + m.support, 0);
  const classTable = [
    ['class', 'precision', 'recall', 'f1', 'auc', 'support'],
    ...report.perClass.map((m) => [
      String(m.class),
      ratio(m.precision),
      ratio(m.recall),
      ratio(m.f1),
      ratio(report.rocAuc[m.class]),
      String(m.support),
    ]),
    ['macro', ratio(report.macro.precision), ratio(report.macro.recall), ratio(report.macro.f1),
      ratio(report.macro.rocAuc), String(total)],
  ];
  const matrixTable = [
    ['true\\pred', ...report.confusionMatrix.map((_, c) => String(c))],
    ...report.confusionMatrix.map((row, r) => [String(r), ...row.map(String)]),
  ];
  return [
    `accuracy ${ratio(report.accuracy)} (${total} examples)`,
    '',
    ...alignRows(classTable),
    '',
    'confusion matrix (rows = true class, columns = predicted class)',
    ...alignRows(matrixTable),
  ].join('\n');
}

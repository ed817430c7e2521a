// The machine-readable end-of-run summary (`--json`) and its human-readable twin.
import { formatEvaluation } from '../../metrics/format.js';
import type { SessionResult } from './session.js';

export interface RunSummary {
  steps: number;
  epochs: number;
  images_per_s: number;
  final_loss: number;
  train_accuracy: number;
  test_accuracy: number | null;
  macro_f1: number | null;
  checkpoint: string | null;
  backend: string;
  device: string;
  workers: number;
  bytes_per_step: number;
  step_timings_ms: Record<string, number>;
  wall_s: number;
  interrupted: boolean;
  run_dir: string;
  /** With --val-split: the last epoch's validation scores, the best epoch's checkpoint (--save-best), why it stopped early (--early-stop). */
  val_loss?: number;
  val_accuracy?: number;
  best_checkpoint?: string;
  stopped_early?: string;
}

export function buildSummary(result: SessionResult, extra: { backend: string; device: string; workers: number; runDir: string }): RunSummary {
  const round = (v: number, digits = 4) => Number(v.toFixed(digits));
  return {
    steps: result.steps,
    epochs: round(result.epochs, 3),
    images_per_s: round(result.imagesPerSecond, 1),
    final_loss: round(result.finalLoss),
    train_accuracy: round(result.trainAccuracy),
    test_accuracy: result.evaluation ? round(result.evaluation.accuracy) : null,
    macro_f1: result.evaluation ? round(result.evaluation.macro.f1) : null,
    checkpoint: result.checkpoint ?? null,
    backend: extra.backend,
    device: extra.device,
    workers: extra.workers,
    bytes_per_step: Math.round(result.bytesPerStep),
    step_timings_ms: Object.fromEntries(Object.entries(result.timings).map(([k, v]) => [k, round(v ?? 0, 2)])),
    wall_s: round(result.wallSeconds, 1),
    interrupted: result.interrupted,
    run_dir: extra.runDir,
    ...(result.validation ? { val_loss: round(result.validation.val_loss), val_accuracy: round(result.validation.val_accuracy) } : {}),
    ...(result.bestCheckpoint ? { best_checkpoint: result.bestCheckpoint } : {}),
    ...(result.stoppedEarly ? { stopped_early: result.stoppedEarly } : {}),
  };
}

export function formatSummary(summary: RunSummary, result: SessionResult): string {
  const lines = [
    `${summary.interrupted ? 'stopped' : 'finished'}: ${summary.steps} steps (${summary.epochs} epochs) on ${summary.backend}, ${summary.workers} worker(s)`,
    `throughput ${summary.images_per_s} images/s, final loss ${summary.final_loss}, wall ${summary.wall_s} s`,
    `step time (ms, mean): ${Object.entries(summary.step_timings_ms).map(([k, v]) => `${k} ${v}`).join(', ')}`,
  ];
  if (summary.bytes_per_step > 0) lines.push(`bytes on the wire per step: ${summary.bytes_per_step}`);
  if (summary.val_loss !== undefined) lines.push(`validation: loss ${summary.val_loss}, accuracy ${((summary.val_accuracy ?? 0) * 100).toFixed(2)}%`);
  if (summary.stopped_early) lines.push(summary.stopped_early);
  if (summary.best_checkpoint && result.selection) lines.push(`best (${result.selection.metric} ${result.selection.best.toFixed(4)}, epoch ${result.selection.bestEpoch + 1}): ${summary.best_checkpoint}`);
  if (result.evaluation) lines.push('', formatEvaluation(result.evaluation));
  lines.push(`checkpoint: ${summary.checkpoint}`);
  return lines.join('\n');
}

// Reading metrics.jsonl for the report: resumed runs, torn lines, and errors that name the line.
import { describe, expect, it } from 'vitest';
import { parseMetricsLog } from '../../src/report/runRecords.js';

const step = (n: number, loss: number) => JSON.stringify({ time: 't', type: 'step', step: n, total_steps: 4, epoch: 1, loss, accuracy: 0.5, lr: 1e-3, images_per_s: 10, bytes: 0, workers: 2, timings_ms: { compute: 1 } });

const epoch = JSON.stringify({ time: 't', type: 'epoch', epoch: 1, loss: 1.7, train_accuracy: 0.4, test_accuracy: 0.5 });
const summary = JSON.stringify({
  time: 't', type: 'summary', steps: 2, epochs: 1, images_per_s: 10, final_loss: 1.5, train_accuracy: 0.5,
  bytes_per_step: 0, step_timings_ms: { compute: 1 }, interrupted: false, wall_s: 1,
});

describe('parseMetricsLog', () => {
  it('splits step, epoch and summary records', () => {
    const text = [step(1, 2), step(2, 1.5), epoch, summary].join('\n') + '\n';
    const records = parseMetricsLog(text);
    expect(records.steps.map((s) => s.step)).toEqual([1, 2]);
    expect(records.epochs).toHaveLength(1);
    expect(records.summary?.final_loss).toBe(1.5);
    expect(records.skipped).toEqual([]);
  });

  it('keeps the newest record of a step repeated by a resumed run', () => {
    const records = parseMetricsLog([step(1, 2), step(2, 1.5), step(3, 1.2), step(2, 1.4), step(3, 1.1), step(4, 1)].join('\n'));
    expect(records.steps.map((s) => [s.step, s.loss])).toEqual([[1, 2], [2, 1.4], [3, 1.1], [4, 1]]);
  });

  it('skips a torn last line, as left by a process killed mid-write', () => {
    const records = parseMetricsLog(`${step(1, 2)}\n${step(2, 1.5).slice(0, 30)}\n`, 'run/metrics.jsonl');
    expect(records.steps).toHaveLength(1);
    expect(records.skipped).toEqual(['run/metrics.jsonl:2: torn last line']);
  });

  it('rejects a bad line in the middle, naming the file and line', () => {
    expect(() => parseMetricsLog(`${step(1, 2)}\n{oops\n${step(2, 1)}`, 'run/metrics.jsonl')).toThrow(
      expect.objectContaining({ code: 'REPORT_BAD_METRICS_LINE', message: expect.stringContaining('run/metrics.jsonl:2') }),
    );
  });

  it('rejects a record with a field out of its range, naming the line and the field', () => {
    const bad = step(2, 1).replace('"accuracy":0.5', '"accuracy":7');
    expect(() => parseMetricsLog(`${step(1, 2)}\n${bad}\n${step(3, 1)}`, 'run/metrics.jsonl')).toThrow(
      expect.objectContaining({ code: 'REPORT_BAD_METRICS_LINE', message: expect.stringMatching(/run\/metrics.jsonl:2: .*accuracy must be a fraction from 0 to 1, got 7/) }),
    );
  });

  it('reads a run written by an earlier version (camelCase, epochs from 0), also one a newer version resumed', () => {
    const old = [
      JSON.stringify({ time: 't', type: 'step', step: 1, total_steps: 3, epoch: 0, loss: 2, accuracy: 0.5, lr: 1e-3, images_per_s: 0, bytes: 9, workers: 2, timings: { computeMs: 5, waitForSlowestMs: 1, totalMs: 7 } }),
      JSON.stringify({ time: 't', type: 'epoch', epoch: 0, loss: 1.9, train_accuracy: 0.4, test_accuracy: 0.3 }),
      JSON.stringify({ time: 't', type: 'summary', steps: 1, epochs: 1, imagesPerSecond: 3, finalLoss: 2, trainAccuracy: 0.5, bytesPerStep: 9, timings: { computeMs: 5 }, interrupted: true, wallSeconds: 2 }),
    ];
    const resumed = [
      JSON.stringify({ time: 't', type: 'step', step: 2, total_steps: 3, epoch: 2, loss: 1.5, accuracy: 0.5, lr: 1e-3, images_per_s: 4, bytes: 9, workers: 2, timings_ms: { compute: 4 } }),
      JSON.stringify({ time: 't', type: 'epoch', epoch: 2, loss: 1.5, train_accuracy: 0.5 }),
    ];
    const records = parseMetricsLog([...old, ...resumed].join('\n'));
    expect(records.steps.map((s) => [s.step, s.epoch, s.timings_ms])).toEqual([
      [1, 1, { compute: 5, wait_for_slowest: 1, total: 7 }],
      [2, 2, { compute: 4 }],
    ]);
    expect(records.epochs.map((e) => e.epoch)).toEqual([1, 2]);
    expect(records.summary).toMatchObject({ images_per_s: 3, final_loss: 2, train_accuracy: 0.5, bytes_per_step: 9, wall_s: 2, step_timings_ms: { compute: 5 } });
  });
});

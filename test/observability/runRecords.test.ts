// Reading metrics.jsonl for the report: resumed runs, torn lines, and errors that name the line.
import { describe, expect, it } from 'vitest';
import { parseMetricsLog } from '../../src/report/runRecords.js';

const step = (n: number, loss: number) => JSON.stringify({ time: 't', type: 'step', step: n, total_steps: 4, epoch: 0, loss, accuracy: 0.5, lr: 1e-3, images_per_s: 10, bytes: 0, workers: 2, timings_ms: { compute: 1 } });

const epoch = JSON.stringify({ time: 't', type: 'epoch', epoch: 0, loss: 1.7, train_accuracy: 0.4, test_accuracy: 0.5 });
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
});

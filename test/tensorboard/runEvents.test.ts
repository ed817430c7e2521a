// A real standalone run writes TensorBoard events beside metrics.jsonl, and a resumed run adds
// a second file that starts with a restart marker; an independent reader sees every step once,
// the same numbers metrics.jsonl holds, the test accuracy per epoch and the config as text.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.js';
import { readEventDir, scalarsOf } from './eventReader.js';

const runDir = tempDir('tb-run');
afterAll(() => rmSync(runDir, { recursive: true, force: true }));

/** Debian's python3 with python3-protobuf, for a third reader built on Google's protobuf library. */
const PYTHON = '/usr/bin/python3';
const pythonProtobuf = spawnSync(PYTHON, ['-c', 'import google.protobuf'], { stdio: 'ignore' }).status === 0;
const NO_PYTHON_PROTOBUF = `skipped: no ${PYTHON} with google.protobuf (Debian: apt-get install python3-protobuf)`;

const FLAGS = ['--backend', 'wasm', '--train-limit', '128', '--test-limit', '50', '--batch-size', '32', '--epochs', '2', '--checkpoint-every', '100', '--log-level', 'warn', '--run-dir', runDir, '--json'];

describe('TensorBoard events of a run', () => {
  it('hold every step, the epochs\' test accuracy and the config, across a resume', async () => {
    const first = await runCli(['worker', '--standalone', ...FLAGS, '--max-steps', '6']);
    expect(first.code, first.stderr).toBe(0);
    const second = await runCli(['worker', '--standalone', ...FLAGS, '--resume']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.json!.steps).toBe(8);

    const files = readEventDir(join(runDir, 'tensorboard'));
    expect(files).toHaveLength(2);
    for (const file of files) {
      expect(file.tornTail).toBe(false);
      expect(file.events[0].fileVersion).toBe('brain.Event:2');
    }
    // The resumed process marks its restart at the step it resumed from.
    expect(files[1].events.find((e) => e.sessionLogStatus !== undefined)).toMatchObject({ step: 6, sessionLogStatus: 1 });

    const scalars = scalarsOf(files);
    const records = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const steps = records.filter((r) => r.type === 'step');
    expect(scalars.get('train/loss')!.map(([step]) => step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    scalars.get('train/loss')!.forEach(([step, loss]) => expect(loss).toBeCloseTo(steps.find((s) => s.step === step).loss, 5));
    scalars.get('train/learning_rate')!.forEach(([step, lr]) => expect(lr).toBeCloseTo(steps.find((s) => s.step === step).lr, 7));
    for (const tag of ['train/accuracy', 'network/bytes_per_step', 'step_time_ms/compute']) expect(scalars.get(tag), tag).toHaveLength(8);
    expect(scalars.get('train/images_per_second')!.length).toBeGreaterThan(4);

    const epochs = records.filter((r) => r.type === 'epoch');
    // Epochs are counted from 1 in the records, as the log shows them.
    expect(epochs.map((e) => e.epoch)).toEqual([1, 2]);
    expect(steps.map((s) => s.epoch)).toEqual([1, 1, 1, 1, 2, 2, 2, 2]);
    const summaries = records.filter((r) => r.type === 'summary');
    // Each epoch's evaluation, and the first run's final one at the step it stopped.
    expect(scalars.get('test/accuracy')).toEqual([
      [4, expect.closeTo(epochs[0].test_accuracy, 5)],
      [6, expect.closeTo(summaries[0].test_accuracy, 5)],
      [8, expect.closeTo(epochs[1].test_accuracy, 5)],
    ]);
    expect(scalars.get('epoch/train_loss')!.map(([step]) => step)).toEqual([4, 8]);

    const config = files[0].events.flatMap((e) => e.values).find((v) => v.tag === 'config')!;
    expect(config.pluginName).toBe('text');
    expect(JSON.parse(config.text!)).toMatchObject({ epochs: 2, batchSize: 32, trainLimit: 128 });

    if (!pythonProtobuf) {
      console.warn(NO_PYTHON_PROTOBUF);
      return;
    }
    // Google's protobuf parser agrees on every event.
    const python = execFileSync(PYTHON, [join(import.meta.dirname, 'read_events.py'), join(runDir, 'tensorboard')], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const ours = files.flatMap((f) => f.events);
    expect(python).toHaveLength(ours.length);
    python.forEach((event, i) => {
      expect(event.step).toBe(ours[i].step);
      expect(event.wall_time).toBe(ours[i].wallTime);
      expect(event.file_version).toBe(ours[i].fileVersion);
      expect(event.session_log).toBe(ours[i].sessionLogStatus);
      expect((event.values ?? []).map((v: { tag: string }) => v.tag)).toEqual(ours[i].values.map((v) => v.tag));
      (event.values ?? []).forEach((v: { simple_value?: number; text?: string }, j: number) => {
        if (v.text !== undefined) expect(v.text).toBe(ours[i].values[j].text);
        else expect(v.simple_value).toBe(ours[i].values[j].simpleValue);
      });
    });
  }, 240_000);
});

describe('TensorBoardLog', () => {
  it('plots validation figures of epoch records that have them, at the epoch\'s last step', async () => {
    const { TensorBoardLog } = await import('../../src/training/loop/tensorboardLog.js');
    const dir = tempDir('tb-val');
    try {
      const log = new TensorBoardLog(dir, () => undefined);
      log.started(0, { epochs: 1 });
      log.write({ type: 'step', step: 3, loss: 1, accuracy: 0.5, lr: 1e-3, images_per_s: 0, bytes: 0, timings_ms: { compute: 2 } });
      log.write({ type: 'epoch', loss: 1.25, train_accuracy: 0.5, val_loss: 1.5, val_accuracy: 0.375 });
      log.write({ type: 'summary' });
      const scalars = scalarsOf(readEventDir(join(dir, 'tensorboard')));
      expect(scalars.get('validation/loss')).toEqual([[3, 1.5]]);
      expect(scalars.get('validation/accuracy')).toEqual([[3, 0.375]]);
      expect(scalars.has('test/accuracy')).toBe(false);
      // images/s is not measured at the first steps (0): left out rather than plotted as a dip.
      expect(scalars.has('train/images_per_second')).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

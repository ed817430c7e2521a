// What a person sees while training: the bar and its figures, the plain lines of a pipe, the
// epoch summary, and which of them --progress auto picks; colour only on a terminal without NO_COLOR.
import { describe, expect, it } from 'vitest';
import {
  formatBar,
  formatDuration,
  formatEpochSummary,
  formatProgressLine,
  ProgressReporter,
  progressStyle,
  useColour,
  type ProgressSnapshot,
} from '../../../src/training/loop/progress.js';

const snapshot: ProgressSnapshot = { epoch: 0, epochs: 2, stepInEpoch: 6, stepsInEpoch: 12, imagesPerSecond: 150, loss: 0.5, accuracy: 0.9, epochElapsedSeconds: 65, epochEtaSeconds: 3 };
const ANSI = /\x1b\[/;

function stream(isTTY: boolean) {
  const written: string[] = [];
  return { isTTY, written, write: (text: string) => written.push(text) };
}

describe('progress formatting', () => {
  it('the bar shows the epoch, the part done, elapsed time, the epoch ETA and the figures', () => {
    expect(formatBar(snapshot)).toBe(`epoch 1/2 ${'█'.repeat(12)}${'░'.repeat(12)} 6/12 [1m05s<3s]  150 img/s  loss 0.5000  acc 90.0%`);
  });

  it('the bar is full at the last step and never overflows', () => {
    expect(formatBar({ ...snapshot, stepInEpoch: 12 })).toContain('█'.repeat(24) + ' 12/12');
    expect(formatBar({ ...snapshot, stepInEpoch: 13 })).not.toContain('░');
  });

  it('colour is ANSI codes around the same text', () => {
    const coloured = formatBar(snapshot, true);
    expect(coloured).toMatch(ANSI);
    expect(coloured.replace(/\x1b\[\d+m/g, '')).toBe(formatBar(snapshot));
    expect(formatBar(snapshot)).not.toMatch(ANSI);
  });

  it('a progress line names the step, the elapsed time and the epoch ETA', () => {
    expect(formatProgressLine(snapshot)).toBe('epoch 1/2 step 6/12, 1m05s elapsed, epoch ETA 3s: 150 img/s  loss 0.5000  acc 90.0%');
  });

  it('the epoch summary has the test accuracy and the run ETA when there are some', () => {
    const summary = { epoch: 0, epochs: 2, loss: 0.25, trainAccuracy: 0.9, testAccuracy: 0.875, imagesPerSecond: 151.4, epochSeconds: 70, runEtaSeconds: 3700 };
    expect(formatEpochSummary(summary)).toBe('epoch 1/2 done in 1m10s: loss 0.2500, train acc 90.00%, test acc 87.50%, 151 img/s, run ETA 1h01m');
    expect(formatEpochSummary({ ...summary, testAccuracy: undefined, runEtaSeconds: undefined })).toBe('epoch 1/2 done in 1m10s: loss 0.2500, train acc 90.00%, 151 img/s');
  });

  it('durations read as seconds, minutes or hours; an unknown one as ?', () => {
    expect([formatDuration(4.4), formatDuration(125), formatDuration(7260), formatDuration(Infinity), formatDuration(-1)]).toEqual(['4s', '2m05s', '2h01m', '?', '?']);
  });
});

describe('--progress', () => {
  it('auto is the bar on a terminal and lines when piped; the others are what they say', () => {
    expect(progressStyle('auto', true)).toBe('bar');
    expect(progressStyle('auto', false)).toBe('lines');
    for (const mode of ['bar', 'lines', 'none'] as const) {
      expect(progressStyle(mode, true)).toBe(mode);
      expect(progressStyle(mode, false)).toBe(mode);
    }
  });

  it('colour only on a terminal, and not with NO_COLOR set', () => {
    expect(useColour(true, {})).toBe(true);
    expect(useColour(false, {})).toBe(false);
    expect(useColour(true, { NO_COLOR: '1' })).toBe(false);
    // no-color.org: an empty NO_COLOR does not count.
    expect(useColour(true, { NO_COLOR: '' })).toBe(true);
  });

  it('on a terminal the bar is redrawn in place, coloured, and its line ended before the epoch summary', () => {
    const out = stream(true);
    const progress = new ProgressReporter('auto', out, {});
    progress.update(snapshot);
    progress.update({ ...snapshot, stepInEpoch: 12 });
    progress.epochFinished({ epoch: 0, epochs: 2, loss: 0.25, trainAccuracy: 0.9, imagesPerSecond: 150, epochSeconds: 70 });
    expect(out.written[0].startsWith('\r\x1b[2K')).toBe(true);
    expect(out.written[0]).toMatch(/\x1b\[32m█/);
    expect(out.written[2]).toBe('\n');
    expect(out.written[3]).toMatch(/epoch 1\/2.*done in 1m10s/);
  });

  it('NO_COLOR leaves the bar plain', () => {
    const out = stream(true);
    new ProgressReporter('bar', out, { NO_COLOR: '1' }).update(snapshot);
    expect(out.written[0].slice('\r\x1b[2K'.length)).toBe(formatBar(snapshot));
  });

  it('piped, lines are written at the end of an epoch and at the run\'s last step, else at most every 10 s, with no escape codes', () => {
    const out = stream(false);
    const progress = new ProgressReporter('auto', out, {});
    progress.update({ ...snapshot, stepInEpoch: 1 });
    progress.update({ ...snapshot, stepInEpoch: 2 });
    progress.update({ ...snapshot, stepInEpoch: 3, last: true });
    progress.update({ ...snapshot, stepInEpoch: 12 });
    expect(out.written.map((l) => l.match(/step \d+\/12/)![0])).toEqual(['step 1/12', 'step 3/12', 'step 12/12']);
    expect(out.written.join('')).not.toMatch(ANSI);
  });

  it('none writes nothing, and leaves the epoch summary to the log', () => {
    const out = stream(true);
    const progress = new ProgressReporter('none', out, {});
    progress.update(snapshot);
    progress.epochFinished({ epoch: 0, epochs: 2, loss: 0.25, trainAccuracy: 0.9, imagesPerSecond: 150, epochSeconds: 70 });
    progress.endLine();
    expect(out.written).toEqual([]);
    expect(progress.shown).toBe(false);
  });
});

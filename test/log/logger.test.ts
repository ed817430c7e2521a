// Log lines: one per event, with time, level and component (the worker id) on every line,
// filtered by --log-level; training progress is such a line too when stderr is not a terminal.
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log/logger.js';
import { ProgressReporter } from '../../src/training/loop/progress.js';

const LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO |WARN |ERROR) \[worker local-1\] \S/;

function captured(level: 'debug' | 'info' | 'warn' | 'error') {
  const lines: string[] = [];
  const log = createLogger('worker local-1', level, (l) => lines.push(l));
  return { log, lines };
}

const notATerminal = { isTTY: false, write: () => true } as unknown as NodeJS.WriteStream;
const snapshot = { epoch: 0, epochs: 2, stepInEpoch: 10, stepsInEpoch: 10, imagesPerSecond: 150, loss: 0.5, accuracy: 0.9, etaSeconds: 3 };

describe('logger', () => {
  it('writes one line per event with time, level and the worker id', () => {
    const { log, lines } = captured('debug');
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    expect(lines).toHaveLength(4);
    for (const line of lines) {
      expect(line).toMatch(LINE);
      expect(line.endsWith('\n')).toBe(true);
      expect(line.slice(0, -1)).not.toContain('\n');
    }
  });

  it('leaves out lines below --log-level', () => {
    const { log, lines } = captured('warn');
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    expect(lines.map((l) => l.split(' ')[1])).toEqual(['WARN', 'ERROR']);
    expect(log.enabled('info')).toBe(false);
    expect(log.enabled('error')).toBe(true);
  });

  it('keeps the worker id in a child logger and names the part', () => {
    const { log, lines } = captured('info');
    log.child('data').info('loaded');
    expect(lines[0]).toContain('[worker local-1/data] loaded');
  });
});

describe('progress lines', () => {
  it('are info log lines with the worker id when stderr is not a terminal', () => {
    const { log, lines } = captured('info');
    new ProgressReporter(log, false, notATerminal).update(snapshot);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(LINE);
    expect(lines[0]).toContain('epoch 1/2 step 10/10 150 img/s loss 0.5000 acc 90.0%');
  });

  it('are written at the end of an epoch and at the run\'s last step, else at most every 10 s', () => {
    const { log, lines } = captured('info');
    const progress = new ProgressReporter(log, false, notATerminal);
    progress.update({ ...snapshot, stepInEpoch: 1 });
    progress.update({ ...snapshot, stepInEpoch: 2 });
    progress.update({ ...snapshot, stepInEpoch: 3, last: true });
    expect(lines.map((l) => l.match(/step \d+\/10/)![0])).toEqual(['step 1/10', 'step 3/10']);
  });

  it('are left out at --log-level warn', () => {
    const { log, lines } = captured('warn');
    new ProgressReporter(log, false, notATerminal).update(snapshot);
    expect(lines).toEqual([]);
  });
});

// Log lines: one per event, with time, level and component (the worker id) on every line,
// filtered by --log-level (training progress is not a log line: test/training/progress.test.ts).
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log/logger.js';

const LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO |WARN |ERROR) \[worker local-1\] \S/;

function captured(level: 'debug' | 'info' | 'warn' | 'error') {
  const lines: string[] = [];
  const log = createLogger('worker local-1', level, (l) => lines.push(l));
  return { log, lines };
}

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

// metrics.jsonl after a writer killed mid-append: the next run log on the file (a resumed run)
// cuts the torn last line, so that its own records start on a line of their own and every line
// of the file parses; whole records are never cut.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { METRICS_FILE, RunLog } from '../../../src/training/loop/runLog.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function runDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dsdc-runlog-'));
  dirs.push(dir);
  return dir;
}

function logged(): { warnings: string[]; sink: { warn: (m: string) => void; info: (m: string) => void } } {
  const warnings: string[] = [];
  return { warnings, sink: { warn: (m) => warnings.push(m), info: () => undefined } };
}

const step = (n: number) => JSON.stringify({ type: 'step', step: n, loss: 1, accuracy: 0.5, workers: 1 });

describe('RunLog on a file a killed writer left', () => {
  it('cuts a torn last record before appending, and says how much it cut', () => {
    const dir = runDir();
    const file = join(dir, METRICS_FILE);
    const torn = step(2).slice(0, 17);
    writeFileSync(file, `${step(1)}\n${torn}`);
    const { warnings, sink } = logged();
    new RunLog(dir, sink).write({ type: 'step', step: 2, loss: 1, accuracy: 0.5, workers: 1 });
    const lines = readFileSync(file, 'utf8').split('\n');
    expect(lines[0]).toBe(step(1));
    expect(JSON.parse(lines[1]).step).toBe(2);
    expect(lines.slice(2)).toEqual(['']);
    expect(warnings).toEqual([expect.stringMatching(new RegExp(`cut ${Buffer.byteLength(torn)} byte\\(s\\) of a torn last record`))]);
  });

  it('cuts a torn record longer than its read chunk, back to the last newline', () => {
    const dir = runDir();
    const file = join(dir, METRICS_FILE);
    writeFileSync(file, `${step(1)}\n{"type":"step","note":"${'x'.repeat(200_000)}`);
    new RunLog(dir, logged().sink).write({ type: 'step', step: 2, loss: 1, accuracy: 0.5, workers: 1 });
    const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
    expect(lines.map((l) => JSON.parse(l).step)).toEqual([1, 2]);
  });

  it('leaves a file of whole records (and a missing or empty one) as it is', () => {
    const dir = runDir();
    const file = join(dir, METRICS_FILE);
    const { warnings, sink } = logged();
    new RunLog(dir, sink);
    writeFileSync(file, '');
    new RunLog(dir, sink);
    expect(readFileSync(file, 'utf8')).toBe('');
    writeFileSync(file, `${step(1)}\n`);
    new RunLog(dir, sink);
    expect(readFileSync(file, 'utf8')).toBe(`${step(1)}\n`);
    expect(warnings).toEqual([]);
  });
});

// What a terminal shows of a real run: by default one INFO line (what runs where), the progress
// and the epoch summaries; --progress is independent of --log-level; a pseudo-terminal gets the
// bar (drawn in place, coloured unless NO_COLOR), a pipe plain lines.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, REPO_ROOT, runCli, tempDir } from '../helpers/cli.js';
import { momentumForSteps } from '../../src/training/setup/batchNormMomentum.js';

const RUN_TIMEOUT_MS = 180_000;
// One epoch of 4 steps: progress lines, an epoch summary and the final result.
const TINY = ['--backend', 'wasm', '--train-limit', '256', '--test-limit', '64', '--batch-size', '64', '--epochs', '1', '--widths', '16,16', '--dilations', '1,2', '--stem-filters', '8'];
const STEPS = 4;

const infoLines = (stderr: string) => stderr.split('\n').filter((l) => /^\S+ INFO  /.test(l));
const hasScript = (() => {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

function savedConfig(runDir: string): { model: { bnMomentum: number }; bnMomentumFromSteps?: boolean } {
  const checkpoints = join(runDir, 'checkpoints');
  const latest = readFileSync(join(checkpoints, 'LATEST'), 'utf8').trim();
  return JSON.parse(readFileSync(join(checkpoints, latest, 'state.json'), 'utf8')).config;
}

describe('the terminal', () => {
  it('by default, piped: one INFO line saying what runs where, progress lines, the epoch summary; the chosen momentum is recorded', async () => {
    const runDir = join(tempDir('terminal-default'), 'run');
    const result = await runCli(['worker', '--standalone', ...TINY, '--run-dir', runDir], { timeoutMs: RUN_TIMEOUT_MS });
    expect(result.code, result.stderr.slice(-2000)).toBe(0);
    expect(infoLines(result.stderr)).toEqual([expect.stringMatching(new RegExp(`training ${STEPS} steps \\(4 per epoch, batch 64\\) on 1 process on wasm .* · data mnist: 256 train / 64 test images · run dir ${runDir}$`))]);
    expect(result.stderr).toMatch(/^epoch 1\/1 step 4\/4, \S+ elapsed, epoch ETA \S+: \d+ img\/s {2}loss /m);
    expect(result.stderr).toMatch(/^epoch 1\/1 done in \S+: loss \d\.\d{4}, train acc [\d.]+%, test acc [\d.]+%, \d+ img\/s$/m);
    expect(result.stderr).not.toMatch(/\x1b\[|Hi, looks like|skipped tensorflow/);
    expect(result.stdout).toMatch(/^finished: 4 steps/m);
    const config = savedConfig(runDir);
    expect(config.model.bnMomentum).toBe(momentumForSteps(STEPS));
    expect(config.bnMomentumFromSteps).toBeUndefined();
  }, RUN_TIMEOUT_MS);

  it('--progress lines --log-level warn: no log lines, but the progress and the epoch summary', async () => {
    const result = await runCli(['worker', '--standalone', ...TINY, '--progress', 'lines', '--log-level', 'warn', '--run-dir', join(tempDir('terminal-lines'), 'run')], { timeoutMs: RUN_TIMEOUT_MS });
    expect(result.code, result.stderr.slice(-2000)).toBe(0);
    expect(result.stderr).not.toMatch(/ (INFO|DEBUG) /);
    expect(result.stderr).toMatch(/^epoch 1\/1 step 4\/4/m);
    expect(result.stderr).toMatch(/^epoch 1\/1 done in/m);
  }, RUN_TIMEOUT_MS);

  it('--progress none: neither progress nor summary on stderr at --log-level warn; at debug, the details', async () => {
    const quiet = await runCli(['worker', '--standalone', ...TINY, '--progress', 'none', '--log-level', 'warn', '--run-dir', join(tempDir('terminal-none'), 'run'), '--json'], { timeoutMs: RUN_TIMEOUT_MS });
    expect(quiet.code, quiet.stderr.slice(-2000)).toBe(0);
    expect(quiet.stderr).toBe('');
    expect(quiet.json?.steps).toBe(STEPS);
    const debug = await runCli(['worker', '--standalone', ...TINY, '--progress', 'none', '--log-level', 'debug', '--run-dir', join(tempDir('terminal-debug'), 'run')], { timeoutMs: RUN_TIMEOUT_MS });
    expect(debug.code, debug.stderr.slice(-2000)).toBe(0);
    expect(debug.stderr).toMatch(/DEBUG \[worker\] mnist: /);
    expect(debug.stderr).toMatch(new RegExp(`DEBUG \\[worker\\] batch norm momentum ${momentumForSteps(STEPS)}, chosen for ${STEPS} planned steps`));
    // No progress display: the epoch summary is a log line.
    expect(debug.stderr).toMatch(/INFO  \[worker\] epoch 1\/1 done in/);
    expect(debug.stderr).not.toMatch(/^epoch 1\/1 step/m);
  }, 2 * RUN_TIMEOUT_MS);

  it.skipIf(!hasScript)('a pseudo-terminal gets the bar, redrawn in place and coloured; NO_COLOR leaves it plain', async () => {
    for (const noColour of [false, true]) {
      const runDir = join(tempDir('terminal-pty'), 'run');
      const command = [process.execPath, CLI, 'worker', '--standalone', ...TINY, '--run-dir', runDir].map((a) => `'${a}'`).join(' ');
      // script(1) runs the command on a pseudo-terminal and copies what it writes.
      const env = { ...process.env, NO_COLOR: noColour ? '1' : '' };
      const out = execFileSync('script', ['-qfec', command, '/dev/null'], { cwd: REPO_ROOT, env, encoding: 'utf8', timeout: RUN_TIMEOUT_MS });
      expect(existsSync(runDir) && readdirSync(join(runDir, 'checkpoints')).length).toBeGreaterThan(0);
      expect(out).toMatch(/\r\x1b\[2K/);
      expect(out).toMatch(/4\/4 \[\S+<\S+\]/);
      if (noColour) expect(out).not.toMatch(/\x1b\[(1|2|32)m/);
      else expect(out).toMatch(/\x1b\[32m█/);
    }
  }, 2 * RUN_TIMEOUT_MS);

  it('train --workers 2: one INFO line before the bars, none from the workers, nothing after the result', async () => {
    const result = await runCli(['train', '--workers', '2', ...TINY, '--run-dir', join(tempDir('terminal-train'), 'run')], { timeoutMs: RUN_TIMEOUT_MS });
    expect(result.code, result.stderr.slice(-2000)).toBe(0);
    expect(infoLines(result.stderr)).toEqual([expect.stringMatching(/\[coordinator\] training 4 steps .* on 2 workers on wasm · data mnist: .* · dashboard http:\/\/127\.0\.0\.1:\d+\/$/)]);
    expect(result.stderr).not.toMatch(/\[worker local-|\[launcher\]|Couldn't load Vulkan/);
  }, RUN_TIMEOUT_MS);
});

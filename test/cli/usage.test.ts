// A command line that does not parse, through the real CLI: one line with the closest flag or
// command and where the help is, exit 2; and help that describes every flag and ends with examples.
import { describe, expect, it } from 'vitest';
import { closestName, editDistance } from '../../src/cli/didYouMean.js';
import { runCli } from '../helpers/cli.js';

const COMMANDS = ['train', 'coordinator', 'worker', 'finetune', 'evaluate', 'report', 'predict', 'serve'];

describe('a mistyped command line', { timeout: 120_000 }, () => {
  it('a typo in a flag: one line with the flag it resembles, exit 2', async () => {
    const result = await runCli(['train', '--worker', '2']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe("Unknown argument: --worker. Did you mean --workers? See 'dsdc-dist train --help'.\n");
    expect(result.stdout).toBe('');
  });

  it('several unknown words at once, still one line', async () => {
    const result = await runCli(['worker', '--standalone', '--max-step', '3', 'extra']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe("Unknown arguments: --max-step (did you mean --max-steps?), extra. See 'dsdc-dist worker --help'.\n");
  });

  it('an unknown command', async () => {
    const result = await runCli(['trian', '--workers', '2']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe("Unknown command: trian. Did you mean train? See 'dsdc-dist --help'.\n");
  });

  it("a bad value or a missing flag: yargs' message on one line, exit 2", async () => {
    const bad = await runCli(['train', '--backend', 'tpu']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^Invalid values: Argument: backend, Given: "tpu", Choices: .* See 'dsdc-dist train --help'\.$/)]);
    const missing = await runCli(['evaluate']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe("Missing required argument: checkpoint. See 'dsdc-dist evaluate --help'.\n");
  });
});

describe('--help', () => {
  it('describes every flag of every command and ends with examples', { timeout: 300_000 }, async () => {
    for (const command of COMMANDS) {
      const help = await runCli([command, '--help'], { env: { COLUMNS: '200' } });
      expect(help.code).toBe(0);
      const undescribed = help.stdout.split('\n').filter((line) => /^\s{2}--[a-z0-9-]+(, --?[a-z0-9-]+)?\s+\[/.test(line));
      expect(undescribed, command).toEqual([]);
      const examples = help.stdout.slice(help.stdout.indexOf('\nExamples:\n'));
      expect(help.stdout.indexOf('\nExamples:\n'), command).toBeGreaterThan(0);
      const count = (examples.match(/^\s{2}dsdc-dist /gm) ?? []).length + (examples.match(/^\s{2}DSDC_\w+=/gm) ?? []).length;
      expect(count, command).toBeGreaterThanOrEqual(2);
      expect(count, command).toBeLessThanOrEqual(3);
    }
  });

  it('lists where settings come from', { timeout: 300_000 }, async () => {
    const help = await runCli(['train', '--help'], { env: { COLUMNS: '200' } });
    expect(help.stdout.replace(/\s+/g, ' ')).toContain('Each setting comes from the first of: the flag, the variable DSDC_<FLAG> (DSDC_LEARNING_RATE), this file, the default');
  });
});

describe('closestName', () => {
  it('finds a typo (a letter missing, added, changed or two swapped) and nothing for another word', () => {
    const flags = ['workers', 'max-steps', 'learning-rate', 'seed', 'epochs'];
    expect(closestName('worker', flags)).toBe('workers');
    expect(closestName('max-step', flags)).toBe('max-steps');
    expect(closestName('learnign-rate', flags)).toBe('learning-rate');
    expect(closestName('eopchs', flags)).toBe('epochs');
    expect(closestName('banana', flags)).toBeUndefined();
  });

  it('counts edits as a person would', () => {
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('ab', 'ba')).toBe(1);
    expect(editDistance('same', 'same')).toBe(0);
  });
});

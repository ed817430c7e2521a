// Where a training command's settings come from, through the real CLI and --print-config: the
// flag, else DSDC_<FLAG>, else the --config file (YAML or JSON), else the default; and the
// mistakes a config file or a variable can hold, each refused with the file, the key and what
// was expected.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { BACKEND_CHOICES } from '../../src/backend/index.js';
import { LOG_LEVELS } from '../../src/log/logger.js';
import { CONFIG_FILE_PROPERTIES } from '../../src/schemas/configFile.js';
import { runCli, tempDir } from '../helpers/cli.js';

const dir = tempDir('settings');
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

async function printConfig(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Record<string, unknown>> {
  const result = await runCli([...args, '--print-config'], { env });
  expect(result.code, result.stderr).toBe(0);
  return parse(result.stdout) as Record<string, unknown>;
}

async function refused(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const result = await runCli([...args, '--print-config'], { env });
  expect(result.code).toBe(2);
  expect(result.stdout).toBe('');
  const lines = result.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  return lines[0];
}

describe('settings: flags > DSDC_<FLAG> > --config > defaults', { timeout: 120_000 }, () => {
  it('takes each setting from the first source that has it', async () => {
    const yaml = file('run.yaml', 'learning_rate: 0.01\nepochs: 3\nbatch_size: 32\nwidths: [16, 32]\ndilations: 1,2\neval: false\n');
    const settings = await printConfig(['worker', '--standalone', '--config', yaml, '--epochs', '4'], { DSDC_LEARNING_RATE: '0.5', DSDC_SEED: '9' });
    expect(settings).toMatchObject({
      epochs: 4, // flag over file
      learning_rate: 0.5, // variable over file
      seed: 9, // variable over default
      batch_size: 32, // file over default
      widths: '16,32', // a list in the file, as the flag writes it
      eval: false,
      schedule: 'cosine', // default
    });
  });

  it('reads JSON too, and --lr is --learning-rate', { timeout: 300_000 }, async () => {
    const json = file('run.json', '{"learning_rate": 0.02, "max_steps": 7}');
    expect(await printConfig(['worker', '--standalone', '--config', json])).toMatchObject({ learning_rate: 0.02, max_steps: 7 });
    expect(await printConfig(['worker', '--standalone', '--config', json, '--lr', '0.3'])).toMatchObject({ learning_rate: 0.3 });
  });

  it('keeps the variables that were there before: DSDC_WORKERS, DSDC_GPU, DSDC_ALLOW_SOFTWARE_ADAPTER; and never prints the token', { timeout: 300_000 }, async () => {
    const secret = 'never-printed-0123456789abcdef01234567';
    const result = await runCli(['train', '--print-config'], { env: { DSDC_WORKERS: '3', DSDC_GPU: '1', DSDC_ALLOW_SOFTWARE_ADAPTER: '1', DSDC_TOKEN: secret } });
    expect(result.code, result.stderr).toBe(0);
    expect(parse(result.stdout)).toMatchObject({ workers: 3, gpu: '1', allow_software_adapter: true });
    expect(result.stdout + result.stderr).not.toContain(secret);
  });
});

describe('mistakes in a config file or a variable', { timeout: 120_000 }, () => {
  it('an unknown key, with the closest one', async () => {
    const path = file('typo.yaml', 'batch_sise: 64\n');
    expect(await refused(['worker', '--standalone', '--config', path])).toBe(
      `dsdc-dist: ${path}: unknown key 'batch_sise'. Did you mean batch_size? Keys are the flags of 'dsdc-dist worker --help' in snake_case (--batch-size: batch_size). [CONFIG_FILE_INVALID]`,
    );
  });

  it('a value of the wrong type, naming the file, the key and what was expected', async () => {
    const path = file('type.yaml', 'learning_rate: fast\n');
    expect(await refused(['train', '--config', path])).toBe(`dsdc-dist: ${path}: learning_rate must be a number, got "fast" [CONFIG_FILE_INVALID]`);
  });

  it('a dashed or camelCase key, a key of another command, and the token', { timeout: 300_000 }, async () => {
    expect(await refused(['worker', '--standalone', '--config', file('dashed.json', '{"batch-size": 64}')])).toMatch(/unknown key 'batch-size'\. Did you mean batch_size\?/);
    expect(await refused(['worker', '--standalone', '--config', file('other.yaml', 'workers: 3\n')])).toMatch(/'workers' is not a setting of dsdc-dist worker/);
    expect(await refused(['train', '--config', file('secret.yaml', 'token: abc\n')])).toMatch(/token: the shared secret does not go into a config file/);
  });

  it('a file that is not YAML, not a mapping, or not there', { timeout: 300_000 }, async () => {
    expect(await refused(['train', '--config', file('broken.yaml', 'a: [1\n')])).toMatch(/broken\.yaml: not valid YAML: .*line 2/);
    expect(await refused(['train', '--config', file('list.yaml', '- 1\n- 2\n')])).toMatch(/list\.yaml: must be a mapping of settings \(key: value\), got a list/);
    expect(await refused(['train', '--config', join(dir, 'absent.yaml')])).toMatch(/--config .*absent\.yaml: cannot read it \(ENOENT/);
  });

  it('a variable of the wrong type, naming it', async () => {
    expect(await refused(['train'], { DSDC_BATCH_SIZE: 'big' })).toBe('dsdc-dist: $DSDC_BATCH_SIZE: batch_size must be an integer, got "big" [CONFIG_ENV_INVALID]');
  });
});

describe('the config file schema', () => {
  it('has a key for every flag of every training command, in snake_case', { timeout: 300_000 }, async () => {
    for (const command of ['train', 'coordinator', 'worker', 'finetune']) {
      const help = await runCli([command, '--help'], { env: { COLUMNS: '200' } });
      const flags = [...help.stdout.matchAll(/^\s{2}--([a-z0-9-]+)/gm)].map((m) => m[1]).filter((f) => !['help', 'version', 'config', 'print-config'].includes(f));
      expect(flags.length).toBeGreaterThan(20);
      for (const flag of flags) expect(Object.keys(CONFIG_FILE_PROPERTIES), `${command} --${flag}`).toContain(flag.replace(/-/g, '_'));
    }
  });

  it('offers the backends and log levels the flags do', () => {
    const choices = (key: 'backend' | 'log_level') => CONFIG_FILE_PROPERTIES[key].anyOf.map((s: { const: string }) => s.const);
    expect(choices('backend')).toEqual([...BACKEND_CHOICES]);
    expect(choices('log_level')).toEqual([...LOG_LEVELS]);
  });
});

describe("the environment of train's worker processes", () => {
  it('leaves out the settings meant for the coordinator, keeps the rest and the backend variables', async () => {
    const { workerEnvironment } = await import('../../src/launcher/localWorkers.js');
    const env = workerEnvironment({ DSDC_RESUME: '1', DSDC_EARLY_STOP: '3', DSDC_TOKEN: 't', DSDC_GPU: '1', DSDC_ALLOW_SOFTWARE_ADAPTER: '1', DSDC_CACHE_DIR: '/c', PATH: '/bin' });
    expect(env).toEqual({ DSDC_TOKEN: 't', DSDC_GPU: '1', DSDC_ALLOW_SOFTWARE_ADAPTER: '1', DSDC_CACHE_DIR: '/c', PATH: '/bin' });
  });
});

// Where a training command's settings come from, in one place. Each flag takes its value from the
// first source that sets it: the command line, then the variable DSDC_<FLAG> (DSDC_LEARNING_RATE
// for --learning-rate), then the --config file (YAML or JSON, keys in snake_case), then its
// default. The file and the variables are checked against one schema (src/schemas/configFile.ts)
// before anything runs; the flags' own checks then see the resolved values, whatever their source.
// The resolved settings are what --print-config prints and what a run writes to config.yaml.
import { readFileSync, writeSync } from 'node:fs';
import { extname } from 'node:path';
import type { Argv } from 'yargs';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { CodedError } from '../errors/codedError.js';
import { describeProblem } from '../schemas/check.js';
import { CONFIG_FILE_PROPERTIES, configFileValidator, REFUSED_CONFIG_KEYS, RUN_CONFIG_FILE, SETTING_ENV_PREFIX, settingKind, type ConfigFileKey, type SettingKind } from '../schemas/configFile.js';
import { NO_WORDS, YES_WORDS } from '../backend/options.js';
import { closestName } from './didYouMean.js';
import { USAGE_EXIT_CODE } from './usageError.js';

export const ENV_PREFIX = SETTING_ENV_PREFIX;
/** Settings that say where a run goes and whether it continues, not what it is: config.yaml leaves them out. */
const NOT_RECORDED: ReadonlySet<ConfigFileKey> = new Set(['run_dir', 'resume']);
const RESOLUTION = Symbol('dsdc-dist.settings');

export class SettingsError extends CodedError<'CONFIG_FILE_UNREADABLE' | 'CONFIG_FILE_INVALID' | 'CONFIG_ENV_INVALID'> {
  constructor(code: SettingsError['code'], message: string) {
    super(code, message, { exitCode: USAGE_EXIT_CODE });
  }
}

export type SettingValues = Partial<Record<ConfigFileKey, unknown>>;

/** What one command accepts: its settings (by key), their flags' aliases, those hidden from its help. */
export interface CommandSettings {
  command: string;
  keys: ConfigFileKey[];
  aliases: Readonly<Record<string, readonly string[]>>;
  hidden: ReadonlySet<string>;
}

export interface Resolution extends CommandSettings {
  /** Flags (dashed names) set by the user through any source: the command line, a variable, the file. */
  given: Set<string>;
}

const ALL_KEYS = Object.keys(CONFIG_FILE_PROPERTIES) as ConfigFileKey[];
const isKey = (name: string): name is ConfigFileKey => Object.hasOwn(CONFIG_FILE_PROPERTIES, name);
export const flagOf = (key: ConfigFileKey) => key.replace(/_/g, '-');
export const envNameOf = (key: ConfigFileKey) => `${ENV_PREFIX}${key.toUpperCase()}`;
const camel = (flag: string) => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** --config and --print-config, and the middleware that resolves the sources (the handler's wrapper, printConfigOr, prints them). */
export function withConfigFlags<T>(yargs: Argv<T>) {
  return yargs
    .option('config', { type: 'string', describe: `YAML or JSON file of settings: any flag below, in snake_case (learning_rate: 0.001, eval: false). Each setting comes from the first of: the flag, the variable ${ENV_PREFIX}<FLAG> (${ENV_PREFIX}LEARNING_RATE), this file, the default` })
    .option('print-config', { type: 'boolean', default: false, describe: 'print the resolved settings (YAML, as the run would write them to config.yaml) and exit' })
    .middleware(((argv: object, y: unknown) => resolveSources(argv as never, y as never)) as never, true);
}

/** A command's handler that, with --print-config, prints the resolved settings instead (after every check of the flags). */
export function printConfigOr<A extends object>(handler: (args: A) => Promise<void>): (args: A) => Promise<void> {
  return async (args) => {
    if (!(args as { printConfig?: boolean }).printConfig) return handler(args);
    writeSync(1, settingsYaml(args));
  };
}

/** The options yargs knows for the command being parsed, reduced to its settings. */
function commandSettings(y: { getOptions(): { key: Record<string, unknown>; alias: Record<string, string[]>; hiddenOptions: string[] }; getInternalMethods(): { getContext(): { commands: string[] } } }): CommandSettings {
  const options = y.getOptions();
  const keys = ALL_KEYS.filter((key) => Object.hasOwn(options.key, flagOf(key)));
  return { command: y.getInternalMethods().getContext().commands.join(' '), keys, aliases: options.alias, hidden: new Set(options.hiddenOptions) };
}

function resolveSources(argv: Record<string | symbol, unknown>, y: Parameters<typeof commandSettings>[0] & { parsed?: { defaulted?: Record<string, boolean> } }): void {
  const settings = commandSettings(y);
  const defaulted = y.parsed?.defaulted ?? {};
  // Only from the command line: a variable would reach the worker processes `train` starts, which take other settings.
  const configFile = argv.config as string | undefined;
  const fromFile = configFile === undefined ? {} : readConfigFile(configFile, settings);
  const fromEnv = settingsFromEnv(process.env, settings);
  const given = new Set<string>();
  for (const key of settings.keys) {
    const flag = flagOf(key);
    if (argv[flag] !== undefined && !defaulted[flag]) {
      given.add(flag);
      continue;
    }
    const value = fromEnv[key] ?? fromFile[key];
    if (value === undefined) continue;
    given.add(flag);
    for (const name of [flag, ...(settings.aliases[flag] ?? [])]) {
      argv[name] = asFlagValue(key, value);
      argv[camel(name)] = asFlagValue(key, value);
    }
  }
  argv[RESOLUTION] = { ...settings, given } satisfies Resolution;
}

/** A value of the file or a variable in the form the flag's parsing gives (lists as `64,64`, hosts as an array). */
function asFlagValue(key: ConfigFileKey, value: unknown): unknown {
  if (key === 'allowed_host') return Array.isArray(value) ? value : [value];
  if (Array.isArray(value)) return value.join(',');
  if (typeof value === 'number' && ['classes', 'widths', 'dilations', 'pool_after'].includes(key)) return String(value);
  return value;
}

function nonEmpty(text: string | undefined): string | undefined {
  return text === undefined || text.trim() === '' ? undefined : text;
}

/** The settings of a config file, checked: every key known and meant for this command, every value of its type. */
export function readConfigFile(file: string, settings: CommandSettings): SettingValues {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new SettingsError('CONFIG_FILE_UNREADABLE', `--config ${file}: cannot read it (${(error as Error).message})`);
  }
  let parsed: unknown;
  try {
    parsed = extname(file).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0];
    throw new SettingsError('CONFIG_FILE_INVALID', `--config ${file}: not valid ${extname(file).toLowerCase() === '.json' ? 'JSON' : 'YAML'}: ${reason}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new SettingsError('CONFIG_FILE_INVALID', `--config ${file}: must be a mapping of settings (key: value), got ${Array.isArray(parsed) ? 'a list' : JSON.stringify(parsed)}`);
  }
  const values = parsed as Record<string, unknown>;
  for (const [key, value] of Object.entries(values)) checkSetting(key, value, settings, `${file}: `);
  return values as SettingValues;
}

/** Refuses a key that is no setting (with the closest one), one of another command, or a value of the wrong type. */
function checkSetting(key: string, value: unknown, settings: CommandSettings, where: string): void {
  const refused = REFUSED_CONFIG_KEYS[key];
  if (refused) throw new SettingsError('CONFIG_FILE_INVALID', `${where}${key}: ${refused}`);
  if (!isKey(key)) {
    const snake = key.replace(/-/g, '_').replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    const suggestion = isKey(snake) ? snake : closestName(key, settings.keys);
    const hint = suggestion ? ` Did you mean ${suggestion}?` : '';
    throw new SettingsError('CONFIG_FILE_INVALID', `${where}unknown key '${key}'.${hint} Keys are the flags of 'dsdc-dist ${settings.command} --help' in snake_case (--batch-size: batch_size).`);
  }
  if (!settings.keys.includes(key)) {
    throw new SettingsError('CONFIG_FILE_INVALID', `${where}'${key}' is not a setting of dsdc-dist ${settings.command} (see 'dsdc-dist ${settings.command} --help')`);
  }
  const problem = configFileValidator.problem({ [key]: value });
  if (problem) throw new SettingsError('CONFIG_FILE_INVALID', `${where}${describeProblem(problem)}`);
}

/** The command's settings given as DSDC_<FLAG> variables (empty ones count as unset), checked. */
export function settingsFromEnv(env: NodeJS.ProcessEnv, settings: CommandSettings): SettingValues {
  const values: SettingValues = {};
  for (const key of settings.keys) {
    const name = envNameOf(key);
    const text = nonEmpty(env[name]);
    if (text === undefined) continue;
    const value = envValue(settingKind(key), text.trim());
    const problem = configFileValidator.problem({ [key]: value });
    if (problem) throw new SettingsError('CONFIG_ENV_INVALID', `$${name}: ${describeProblem(problem, key)}`);
    values[key] = value;
  }
  return values;
}

/** A variable's text as the value its setting's type wants; left as text when it is not one (the check then says so). */
function envValue(kind: SettingKind, text: string): unknown {
  if (kind === 'number') return /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(text) ? Number(text) : text;
  if (kind === 'boolean') return YES_WORDS.has(text.toLowerCase()) ? true : NO_WORDS.has(text.toLowerCase()) ? false : text;
  if (kind === 'list') return text.split(',').map((part) => part.trim());
  return text;
}

function resolutionOf(argv: Record<string | symbol, unknown>): Resolution {
  const resolution = argv[RESOLUTION] as Resolution | undefined;
  if (!resolution) throw new Error('settings were not resolved: the command lacks withConfigFlags');
  return resolution;
}

/** The flags (dashed) the user set through any source, for --resume's report of what it applies and ignores. */
export function givenSettings(argv: object): ReadonlySet<string> {
  return resolutionOf(argv as Record<symbol, unknown>).given;
}

/** The resolved settings of the command, in the schema's order; unset ones, and those that do not apply (hidden), left out. */
export function resolvedSettings(argv: object): SettingValues {
  const values = argv as Record<string | symbol, unknown>;
  const resolution = resolutionOf(values);
  const out: SettingValues = {};
  for (const key of resolution.keys) {
    const flag = flagOf(key);
    if (NOT_RECORDED.has(key) || resolution.hidden.has(flag) || values[flag] === undefined) continue;
    out[key] = values[flag];
  }
  return out;
}

/** config.yaml's text: the resolved settings, headed by how to run them again. */
export function settingsYaml(argv: object): string {
  const { command } = resolutionOf(argv as Record<symbol, unknown>);
  return (
    `# dsdc-dist ${command}: the resolved settings of this run (flags > ${ENV_PREFIX}<FLAG> variables > --config file > defaults).\n` +
    `# Run it again with: dsdc-dist ${command} --config ${RUN_CONFIG_FILE} --run-dir NEW_DIR (run_dir and resume are not recorded).\n` +
    stringifyYaml(resolvedSettings(argv))
  );
}

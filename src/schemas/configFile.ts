// The config file of the training commands (`--config FILE`, YAML or JSON) and the copy every run
// writes to `<run-dir>/config.yaml`: one optional key per flag, the flag's name in snake_case
// (`--learning-rate` is `learning_rate`, `--no-eval` is `eval: false`). Types only: the ranges are
// the flags' own checks, which run on the resolved values whatever their source.
import { Kind, Type, type Static, type TSchema } from '@sinclair/typebox';
import { compileValidator } from './check.js';
import { SCHEDULE_KINDS, VALIDATION_METRICS } from './runConfig.js';

/** The resolved settings a run writes into its run directory. */
export const RUN_CONFIG_FILE = 'config.yaml';

const integer = () => Type.Integer({ expected: 'an integer' });
const number = () => Type.Number({ expected: 'a number' });
const boolean = () => Type.Boolean({ expected: 'true or false' });
const string = (expected = 'a string') => Type.String({ expected });
const oneOf = (choices: readonly string[]) => Type.Union(choices.map((c) => Type.Literal(c)), { expected: `one of ${choices.join(', ')}` });
/** `64,64,128,128` as the flag takes it, one number, or a list. */
const integerList = () =>
  Type.Union([Type.String(), Type.Integer(), Type.Array(Type.Integer())], { expected: "a comma-separated list such as '64,64,128' or a list of integers" });

// The choices of a few flags live in modules schemas may not import; the flags check them again.
const BACKENDS = ['auto', 'webgpu', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
const ON_NAN = ['skip', 'stop'] as const;

export const CONFIG_FILE_PROPERTIES = {
  // Every command that computes
  backend: oneOf(BACKENDS),
  allow_software_adapter: boolean(),
  gpu: Type.Union([Type.Integer({ minimum: 0 }), Type.String()], { expected: 'a GPU index (0, 1, …)' }),
  data_dir: string('a directory path'),
  json: boolean(),
  log_level: oneOf(LOG_LEVELS),
  progress: oneOf(['auto', 'bar', 'lines', 'none']),
  // Training (worker --standalone, train, coordinator, finetune)
  epochs: integer(),
  batch_size: integer(),
  learning_rate: number(),
  schedule: oneOf(SCHEDULE_KINDS),
  warmup_steps: integer(),
  seed: integer(),
  max_steps: integer(),
  augment: integer(),
  classes: Type.Union([Type.String(), Type.Integer(), Type.Array(Type.Integer())], { expected: "a class list such as '5-9' or '0,2,4', or a list of integers" }),
  train_limit: integer(),
  test_limit: integer(),
  val_split: number(),
  save_best: oneOf(VALIDATION_METRICS),
  early_stop: integer(),
  eval: boolean(),
  batch_norm: boolean(),
  bn_momentum: number(),
  stem_filters: integer(),
  widths: integerList(),
  dilations: integerList(),
  pool_after: integerList(),
  max_grad_norm: number(),
  grad_norm_bound: number(),
  checkpoint_every: integer(),
  checkpoint_retry: number(),
  run_dir: string('a directory path'),
  resume: boolean(),
  // The coordinator (train, coordinator, finetune)
  workers: integer(),
  host: string('an address'),
  allowed_host: Type.Union([Type.String(), Type.Array(Type.String())], { expected: 'a host name or a list of them' }),
  port: integer(),
  token_file: string('a file path'),
  step_timeout: number(),
  heartbeat_timeout: number(),
  tls_cert: string('a file path'),
  tls_key: string('a file path'),
  tls_ca: string('a file path'),
  max_refused_frames: integer(),
  max_pending_handshakes: integer(),
  on_nan: oneOf(ON_NAN),
  wire_dtype: oneOf(['float32', 'float16', 'bfloat16']),
  // worker
  standalone: boolean(),
  coordinator: string('a ws:// or wss:// URL'),
  worker_id: string('a worker id'),
  connect_timeout: number(),
  // finetune
  from: string('a checkpoint or run directory'),
  freeze: string('a --freeze spec'),
  new_head: boolean(),
  head_lr: number(),
  launch_workers: boolean(),
} satisfies Record<string, TSchema>;

export type ConfigFileKey = keyof typeof CONFIG_FILE_PROPERTIES;
export const ConfigFileSchema = Type.Partial(Type.Object(CONFIG_FILE_PROPERTIES, { additionalProperties: false }));
export type ConfigFile = Static<typeof ConfigFileSchema>;
export const configFileValidator = compileValidator(ConfigFileSchema);

/** A setting's variable is this prefix and its key in capitals: DSDC_LEARNING_RATE. */
export const SETTING_ENV_PREFIX = 'DSDC_';

/** Whether the environment variable `name` sets a setting (DSDC_EPOCHS does, DSDC_TOKEN does not). */
export function isSettingVariable(name: string): boolean {
  return name.startsWith(SETTING_ENV_PREFIX) && Object.hasOwn(CONFIG_FILE_PROPERTIES, name.slice(SETTING_ENV_PREFIX.length).toLowerCase());
}

/** Keys a config file may not hold, and why: a secret does not belong in a file that gets copied around. */
export const REFUSED_CONFIG_KEYS: Readonly<Record<string, string>> = {
  token: 'the shared secret does not go into a config file (config files are copied and shown); put it in a file named by token_file, or in $DSDC_TOKEN',
};

/** How a DSDC_<FLAG> variable's text reads as a setting's value: a number, yes/no, a comma-separated list, or text. */
export type SettingKind = 'number' | 'boolean' | 'list' | 'text';

export function settingKind(key: ConfigFileKey): SettingKind {
  const schema: TSchema = CONFIG_FILE_PROPERTIES[key];
  const kind = schema[Kind];
  if (kind === 'Integer' || kind === 'Number') return 'number';
  if (kind === 'Boolean') return 'boolean';
  // Only lists of text (allowed_host) split; '64,64,128' stays the text the flag takes.
  if (kind === 'Union' && (schema.anyOf as TSchema[]).every((s) => s[Kind] === 'String' || s[Kind] === 'Array')) return 'list';
  return 'text';
}

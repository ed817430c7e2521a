// `dsdc-dist coordinator` (one process of a multi-machine run) and `dsdc-dist train --workers N`
// (coordinator plus N local worker processes).
import type { Argv } from 'yargs';
import type { BackendChoice } from '../../backend/index.js';
import { DEFAULT_PORT, DEFAULT_STEP_TIMEOUT_MS, runCoordinator } from '../../coordinator/coordinator.js';
import { DEFAULT_MAX_PENDING_HANDSHAKES } from '../../coordinator/admission.js';
import { DEFAULT_HEARTBEAT_TIMEOUT_MS } from '../../coordinator/heartbeat.js';
import { DEFAULT_MAX_REFUSED_IN_ROW } from '../../coordinator/workerLife.js';
import { NON_FINITE_POLICIES, type NonFinitePolicy } from '../../coordinator/remoteSource.js';
import { LocalWorkers } from '../../launcher/localWorkers.js';
import { DEFAULT_WIRE_DTYPE, WIRE_DTYPES, type WireDtype } from '../../protocol/index.js';
import { createLogger, type Logger, type LogLevel } from '../../log/logger.js';
import type { TrainConfig } from '../../training/setup/config.js';
import { formatSummary } from '../../training/loop/summary.js';
import { logFailure, printResult, stopSignal } from '../output.js';
import { readTlsCa, readTlsPair } from '../tlsFiles.js';
import { checkTokenStrength, coordinatorToken, randomToken, readToken, TOKEN_ENV } from '../token.js';
import { givenSettings, printConfigOr, settingsYaml } from '../settings.js';
import { defaultRunDir, trainConfigFromArgs, withTrainingFlags, type TrainingArgs } from '../trainingFlags.js';
import { UsageError } from '../usageError.js';

/** Workers of a run unless --workers (or DSDC_WORKERS) says otherwise. */
export const DEFAULT_WORKERS = 2;

export interface DistributedArgs extends TrainingArgs {
  workers: number;
  host: string;
  port: number;
  tokenFile?: string;
  allowedHost: string[];
  maxRefusedFrames: number;
  maxPendingHandshakes: number;
  stepTimeout: number;
  heartbeatTimeout: number;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  onNan: NonFinitePolicy;
  wireDtype: WireDtype;
  backend: BackendChoice;
  json: boolean;
  logLevel: LogLevel;
  runDir?: string;
  resume: boolean;
}

export function withDistributedFlags(y: Argv, defaultPort: number) {
  return withTrainingFlags(y)
    .option('workers', { type: 'number', default: DEFAULT_WORKERS, describe: 'number of workers to wait for (train, finetune: to start)' })
    .option('host', { type: 'string', default: '127.0.0.1', describe: 'address to listen on (other than loopback needs a token of at least 128 bits)' })
    .option('allowed-host', { type: 'string', array: true, default: [] as string[], describe: 'a further name (or address) clients may reach this coordinator by, besides loopback and --host; repeatable' })
    .option('port', { type: 'number', default: defaultPort, describe: 'port for WebSocket and HTTP (/healthz, /metrics); 0 picks a free one' })
    .option('token-file', { type: 'string', describe: 'file holding the shared secret (else $DSDC_TOKEN, else a random one written to <run-dir>/token, mode 0600)' })
    .option('step-timeout', { type: 'number', default: DEFAULT_STEP_TIMEOUT_MS / 1000, describe: 'seconds to wait for a worker\'s gradients before going on without them' })
    .option('heartbeat-timeout', { type: 'number', default: DEFAULT_HEARTBEAT_TIMEOUT_MS / 1000, describe: 'seconds of silence (no pong, no message) after which a worker is treated as stalled and its part of the step goes to the others' })
    .option('tls-cert', { type: 'string', describe: 'PEM certificate: serve wss:// (and https://) instead of ws://; needs --tls-key' })
    .option('tls-key', { type: 'string', describe: 'PEM private key of --tls-cert' })
    .option('max-refused-frames', { type: 'number', default: DEFAULT_MAX_REFUSED_IN_ROW, describe: 'a worker whose frames are refused this many times in a row is evicted from the run' })
    .option('max-pending-handshakes', { type: 'number', default: DEFAULT_MAX_PENDING_HANDSHAKES, describe: 'most connections in their handshake at once; further ones are refused until one finishes' })
    .option('on-nan', { choices: NON_FINITE_POLICIES, default: 'skip' as NonFinitePolicy, describe: 'NaN/Inf in a gradient: skip that worker for the step, or stop the run' })
    .option('wire-dtype', {
      choices: WIRE_DTYPES,
      default: DEFAULT_WIRE_DTYPE,
      describe: 'element type of gradients and broadcast weights on the wire (workers learn it from the coordinator); float16/bfloat16 halve the bytes, the master weights and Adam stay float32',
    })
    .check((args) => {
      if (!Number.isInteger(args.workers) || args.workers < 1) throw new UsageError(`--workers must be a positive integer, got ${args.workers}`);
      for (const flag of ['max-refused-frames', 'max-pending-handshakes'] as const) {
        const value = args[flag] as number;
        if (!Number.isInteger(value) || value < 1) throw new UsageError(`--${flag} must be a positive integer, got ${value}`);
      }
      for (const flag of ['step-timeout', 'heartbeat-timeout'] as const) {
        const value = args[flag] as number;
        if (!(value > 0)) throw new UsageError(`--${flag} must be a positive number of seconds, got ${value}`);
      }
      return true;
    });
}

/** What a run starts from when not from the flags alone: a fine-tune run's config and weights. */
export interface RunStart {
  config: TrainConfig;
  initialWeights?: Map<string, Float32Array>;
}

export interface CoordinateHooks {
  /** Called with the ws:// URL once the coordinator listens (the local launcher starts its workers). */
  onListening?: (url: string) => void;
  start?: RunStart;
  /** Stops the run like a signal does, checkpoint included, then fails the command with its reason. */
  abort?: AbortSignal;
}

/**
 * Runs the coordinator until the run ends. Without `token` it takes --token-file or $DSDC_TOKEN,
 * else the run directory's own token file (made on the first start).
 */
export async function coordinate(args: DistributedArgs, token: string | undefined, { onListening, start, abort }: CoordinateHooks = {}) {
  const log = createLogger('coordinator', args.logLevel);
  const runDir = args.runDir ?? defaultRunDir();
  if (token === undefined) {
    const resolved = await logFailure(log, async () => coordinatorToken(args.tokenFile, runDir, args.host));
    token = resolved.token;
    if (resolved.file) log.info(`no token given (--token-file, $${TOKEN_ENV}): using the run's own, in ${resolved.file} (mode 0600); workers on this machine: --token-file ${resolved.file}`);
  }
  const signalled = stopSignal((s) => log.warn(`${s}: finishing the current step, writing a checkpoint, then exiting`));
  const stop = abort ? AbortSignal.any([signalled, abort]) : signalled;
  const { summary, result } = await logFailure(log, async () => {
    const outcome = await runCoordinator({
      config: start?.config ?? trainConfigFromArgs(args),
      initialWeights: start?.initialWeights,
      runDir,
      resume: args.resume,
      backend: args.backend,
      workers: args.workers,
      host: args.host,
      allowedHosts: args.allowedHost,
      maxRefusedInRow: args.maxRefusedFrames,
      maxPendingHandshakes: args.maxPendingHandshakes,
      port: args.port,
      token,
      log,
      progress: args.progress,
      stop,
      checkpointRetryMs: args.checkpointRetry * 1000,
      givenFlags: givenSettings(args),
      settings: settingsYaml(args),
      stepTimeoutMs: args.stepTimeout * 1000,
      heartbeatTimeoutMs: args.heartbeatTimeout * 1000,
      tls: readTlsPair(args.tlsCert, args.tlsKey),
      nonFinitePolicy: args.onNan,
      wireDtype: args.wireDtype,
      onListening,
    });
    if (abort?.aborted) throw abort.reason instanceof Error ? abort.reason : new UsageError(String(abort.reason), 'RUN_STOPPED');
    return outcome;
  });
  printResult(args.json, summary, formatSummary(summary, result));
}

export const coordinatorCommand = {
  command: 'coordinator',
  describe: 'run the coordinator of a distributed run; workers join with `dsdc-dist worker --coordinator ws://HOST:PORT`',
  builder: (y: Argv) =>
    withDistributedFlags(y, DEFAULT_PORT)
      .example('DSDC_TOKEN=$(openssl rand -hex 24) $0 coordinator --workers 2 --host 0.0.0.0 --port 7070', 'wait for 2 workers from other machines, then train')
      .example('$0 coordinator --workers 2 --tls-cert cert.pem --tls-key key.pem --config run.yaml', 'over wss://, the settings from a config file'),
  handler: printConfigOr(async (args: DistributedArgs) => coordinate(args, undefined)),
};

/**
 * The coordinator plus --workers N local worker processes (train, finetune), on a fresh token
 * unless one is given. On SIGTERM the workers go on computing the step in flight and leave at the
 * coordinator's bye, after its checkpoint (Ctrl-C in a terminal reaches them too: that step is
 * given up, as with pm2 stop).
 */
export async function coordinateWithLocalWorkers(args: DistributedArgs, log: Logger, start?: RunStart): Promise<void> {
  // Its own workers get the token from it in their environment: a fresh one stays in memory.
  const given = readToken(args.tokenFile);
  if (given !== undefined) checkTokenStrength(given, args.host, args.tokenFile ? `--token-file ${args.tokenFile}` : `$${TOKEN_ENV}`);
  const token = given ?? randomToken();
  const tlsCaFile = args.tlsCa ?? args.tlsCert;
  // Checked here, once, rather than by N workers that would each fail to start.
  readTlsCa(tlsCaFile);
  const workerFailure = new AbortController();
  let workers: LocalWorkers | undefined;
  try {
    await coordinate(args, token, {
      onListening: (url) => {
        const onGiveUp = (reason: string) => workerFailure.abort(new UsageError(`run stopped: ${reason}`, 'RUN_STOPPED'));
        workers = new LocalWorkers({ url, count: args.workers, token, backend: args.backend, logLevel: args.logLevel, dataDir: args.dataDir, tlsCaFile, log, onGiveUp });
        workers.start();
      },
      start,
      abort: workerFailure.signal,
    });
  } finally {
    await workers?.stop();
  }
}

export const trainCommand = {
  command: 'train',
  describe: 'train with a coordinator and --workers N local worker processes',
  builder: (y: Argv) =>
    withDistributedFlags(y, 0)
      .option('tls-ca', { type: 'string', describe: 'certificate the local workers trust for wss:// (default: --tls-cert, i.e. self-signed)' })
      .example('$0 train --workers 2 --epochs 1', 'one epoch of MNIST with 2 local workers')
      .example('$0 train --workers 2 --train-limit 500 --test-limit 200 --max-steps 5 --backend wasm --batch-size 64', 'a run of seconds, to try things out')
      .example('$0 train --config runs/two/config.yaml --run-dir runs/two-again', 'run a finished run again from its config.yaml'),
  handler: printConfigOr(async (args: DistributedArgs) => {
    await coordinateWithLocalWorkers(args, createLogger('launcher', args.logLevel));
  }),
};

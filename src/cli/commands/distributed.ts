// `dsdc-dist coordinator` (one process of a multi-machine run) and `dsdc-dist train --workers N`
// (coordinator plus N local worker processes).
import { randomBytes } from 'node:crypto';
import type { Argv } from 'yargs';
import type { BackendChoice } from '../../backend/index.js';
import { DEFAULT_PORT, runCoordinator } from '../../coordinator/coordinator.js';
import { DEFAULT_HEARTBEAT_TIMEOUT_MS } from '../../coordinator/heartbeat.js';
import { NON_FINITE_POLICIES, type NonFinitePolicy } from '../../coordinator/remoteSource.js';
import { LocalWorkers } from '../../launcher/localWorkers.js';
import { createLogger, type Logger, type LogLevel } from '../../log/logger.js';
import type { TrainConfig } from '../../training/config.js';
import { formatSummary } from '../../training/summary.js';
import { logFailure, printResult, stopSignal } from '../output.js';
import { readTlsCa, readTlsPair } from '../tlsFiles.js';
import { readToken } from '../token.js';
import { givenFlags } from '../givenFlags.js';
import { hideBin } from 'yargs/helpers';
import { defaultRunDir, trainConfigFromArgs, withTrainingFlags, type TrainingArgs } from '../trainingFlags.js';

export interface DistributedArgs extends TrainingArgs {
  workers: number;
  host: string;
  port: number;
  tokenFile?: string;
  stepTimeout: number;
  heartbeatTimeout: number;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  onNan: NonFinitePolicy;
  backend: BackendChoice;
  json: boolean;
  logLevel: LogLevel;
  runDir?: string;
  resume: boolean;
}

export function withDistributedFlags(y: Argv, defaultPort: number) {
  return withTrainingFlags(y)
    .option('workers', { type: 'number', default: Number(process.env.DSDC_WORKERS ?? 2), describe: 'number of workers to wait for' })
    .option('host', { type: 'string', default: '127.0.0.1', describe: 'address to listen on (other than loopback needs a token)' })
    .option('port', { type: 'number', default: defaultPort, describe: 'port for WebSocket and HTTP (/healthz, /metrics); 0 picks a free one' })
    .option('token-file', { type: 'string', describe: 'file holding the shared secret (else $DSDC_TOKEN)' })
    .option('step-timeout', { type: 'number', default: 120, describe: 'seconds to wait for a worker\'s gradients before going on without them' })
    .option('heartbeat-timeout', { type: 'number', default: DEFAULT_HEARTBEAT_TIMEOUT_MS / 1000, describe: 'seconds of silence (no pong, no message) after which a worker is treated as stalled and its part of the step goes to the others' })
    .option('tls-cert', { type: 'string', describe: 'PEM certificate: serve wss:// (and https://) instead of ws://; needs --tls-key' })
    .option('tls-key', { type: 'string', describe: 'PEM private key of --tls-cert' })
    .option('on-nan', { choices: NON_FINITE_POLICIES, default: 'skip' as NonFinitePolicy, describe: 'NaN/Inf in a gradient: skip that worker for the step, or stop the run' })
    .check((a) => {
      if (!Number.isInteger(a.workers) || a.workers < 1) throw new Error(`--workers must be a positive integer, got ${a.workers}`);
      for (const flag of ['step-timeout', 'heartbeat-timeout'] as const) {
        const value = a[flag] as number;
        if (!(value > 0)) throw new Error(`--${flag} must be a positive number of seconds, got ${value}`);
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

/** Runs the coordinator until the run ends. */
export async function coordinate(a: DistributedArgs, token: string | undefined, { onListening, start, abort }: CoordinateHooks = {}) {
  const log = createLogger('coordinator', a.logLevel);
  const runDir = a.runDir ?? defaultRunDir();
  const signalled = stopSignal((s) => log.warn(`${s}: finishing the current step, writing a checkpoint, then exiting`));
  const stop = abort ? AbortSignal.any([signalled, abort]) : signalled;
  const { summary, result } = await logFailure(log, async () => {
    const outcome = await runCoordinator({
      config: start?.config ?? trainConfigFromArgs(a),
      initialWeights: start?.initialWeights,
      runDir,
      resume: a.resume,
      backend: a.backend,
      workers: a.workers,
      host: a.host,
      port: a.port,
      token,
      log,
      quiet: false,
      stop,
      checkpointRetryMs: a.checkpointRetry * 1000,
      givenFlags: givenFlags(hideBin(process.argv)),
      stepTimeoutMs: a.stepTimeout * 1000,
      heartbeatTimeoutMs: a.heartbeatTimeout * 1000,
      tls: readTlsPair(a.tlsCert, a.tlsKey),
      nonFinitePolicy: a.onNan,
      onListening,
    });
    if (abort?.aborted) throw abort.reason instanceof Error ? abort.reason : new Error(String(abort.reason));
    return outcome;
  });
  printResult(a.json, summary, formatSummary(summary, result));
}

export const coordinatorCommand = {
  command: 'coordinator',
  describe: 'run the coordinator of a distributed run; workers join with `dsdc-dist worker --coordinator ws://HOST:PORT`',
  builder: (y: Argv) => withDistributedFlags(y, DEFAULT_PORT),
  handler: async (a: DistributedArgs) => coordinate(a, readToken(a.tokenFile)),
};

/**
 * The coordinator plus --workers N local worker processes (train, finetune), on a fresh token
 * unless one is given. On SIGTERM the workers go on computing the step in flight and leave at the
 * coordinator's bye, after its checkpoint (Ctrl-C in a terminal reaches them too: that step is
 * given up, as with pm2 stop).
 */
export async function coordinateWithLocalWorkers(a: DistributedArgs, log: Logger, start?: RunStart): Promise<void> {
  const token = readToken(a.tokenFile) ?? randomBytes(24).toString('hex');
  const tlsCaFile = a.tlsCa ?? a.tlsCert;
  // Checked here, once, rather than by N workers that would each fail to start.
  readTlsCa(tlsCaFile);
  const workerFailure = new AbortController();
  let workers: LocalWorkers | undefined;
  try {
    await coordinate(a, token, {
      onListening: (url) => {
        const onGiveUp = (reason: string) => workerFailure.abort(new Error(`run stopped: ${reason}`));
        workers = new LocalWorkers({ url, count: a.workers, token, backend: a.backend, logLevel: a.logLevel, dataDir: a.dataDir, tlsCaFile, log, onGiveUp });
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
    withDistributedFlags(y, 0).option('tls-ca', { type: 'string', describe: 'certificate the local workers trust for wss:// (default: --tls-cert, i.e. self-signed)' }),
  handler: async (a: DistributedArgs) => {
    await coordinateWithLocalWorkers(a, createLogger('launcher', a.logLevel));
  },
};

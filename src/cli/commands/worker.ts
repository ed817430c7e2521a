// `dsdc-dist worker`: train alone (--standalone) or join a coordinator (--coordinator URL).
import type { Argv } from 'yargs';
import { createLogger, type LogLevel } from '../../log/logger.js';
import { formatSummary } from '../../training/loop/summary.js';
import { WORKER_NO_COORDINATOR_EXIT_CODE } from '../../worker/exitCodes.js';
import { DEFAULT_GIVE_UP_AFTER_MS } from '../../worker/coordinatorLink.js';
import { runRemoteWorker } from '../../worker/remoteWorker.js';
import { runStandalone } from '../../worker/standalone.js';
import { readTlsCa } from '../tlsFiles.js';
import { workerToken } from '../token.js';
import { givenSettings, printConfigOr, settingsYaml } from '../settings.js';
import { leaveOnSignal, logFailure, printResult, stopSignal } from '../output.js';
import { defaultRunDir, trainConfigFromArgs, withTrainingFlags, type TrainingArgs } from '../trainingFlags.js';
import type { BackendChoice } from '../../backend/index.js';
import { UsageError } from '../usageError.js';

export const workerCommand = {
  command: 'worker',
  describe: 'run one worker: --standalone trains locally; --coordinator ws://HOST:PORT joins a distributed run',
  builder: (y: Argv) =>
    withTrainingFlags(y)
      .option('standalone', { type: 'boolean', default: false, describe: 'train in this process alone (no coordinator)' })
      .option('coordinator', { type: 'string', describe: 'coordinator URL, e.g. ws://127.0.0.1:7070' })
      .option('worker-id', { type: 'string', describe: 'stable id of this worker (default: host-pid)' })
      .option('token-file', { type: 'string', describe: 'file holding the shared secret (else $DSDC_TOKEN)' })
      .option('tls-ca', { type: 'string', describe: 'PEM certificate to trust for a wss:// coordinator, e.g. its self-signed --tls-cert' })
      .option('connect-timeout', { type: 'number', default: DEFAULT_GIVE_UP_AFTER_MS / 1000, describe: `seconds without a coordinator (at the start, or after losing it) before giving up with exit code ${WORKER_NO_COORDINATOR_EXIT_CODE}` })
      .example('$0 worker --standalone --train-limit 500 --test-limit 200 --max-steps 5 --backend wasm --run-dir runs/local', 'train in this process on a small part of MNIST')
      .example('$0 worker --standalone --val-split 0.1 --save-best val_accuracy --early-stop 3', 'hold out 10% for validation, keep the best epoch, stop after 3 epochs without improvement')
      .example('DSDC_TOKEN=... $0 worker --coordinator ws://HOST:7070', 'join a coordinator on another machine')
      .check((args) => {
        if (!((args['connect-timeout'] as number) > 0)) throw new UsageError(`--connect-timeout must be a positive number of seconds, got ${args['connect-timeout']}`);
        if (Boolean(args.standalone) === Boolean(args.coordinator)) throw new UsageError('give exactly one of --standalone or --coordinator URL');
        return true;
      }),
  handler: printConfigOr(async (args: TrainingArgs & { standalone: boolean; coordinator?: string; workerId?: string; tokenFile?: string; tlsCa?: string; connectTimeout: number; backend: BackendChoice; json: boolean; logLevel: LogLevel; runDir?: string; resume: boolean }) => {
    if (args.standalone) {
      const log = createLogger('worker', args.logLevel);
      const runDir = args.runDir ?? defaultRunDir();
      const stop = stopSignal((s) => log.warn(`${s}: finishing the current step, writing a checkpoint, then exiting`));
      const { summary, result } = await logFailure(log, () => runStandalone({ config: trainConfigFromArgs(args), runDir, resume: args.resume, backend: args.backend, log, progress: args.progress, stop, checkpointRetryMs: args.checkpointRetry * 1000, givenFlags: givenSettings(args), settings: settingsYaml(args) }));
      printResult(args.json, summary, formatSummary(summary, result));
      return;
    }
    const log = createLogger(`worker ${args.workerId ?? process.pid}`, args.logLevel);
    leaveOnSignal((signal) => log.warn(`${signal}: leaving the run (the coordinator gives this worker's part of the step to the others)`));
    await logFailure(log, () => runRemoteWorker({ url: args.coordinator!, workerId: args.workerId, token: workerToken(args.tokenFile), tlsCa: readTlsCa(args.tlsCa), backend: args.backend, log, dataDir: args.dataDir, giveUpAfterMs: args.connectTimeout * 1000 }));
  }),
};

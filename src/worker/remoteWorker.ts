// `dsdc-dist worker --coordinator URL`: joins a run, computes gradients on the examples it is
// told, sends them, applies the weights it receives, and reconnects with backoff when the
// connection drops (a restarted coordinator resumes from its checkpoint; workers need no help).
import { hostname } from 'node:os';
import { initBackend, type BackendChoice } from '../backend/index.js';
import type { Logger } from '../log/logger.js';
import { checkModelSpec } from '../model/spec.js';
import {
  CloseCode,
  DEFAULT_LIMITS,
  TensorContract,
  DEFAULT_WIRE_DTYPE,
  type WireDtype,
  encodeMessage,
  mapFromTensors,
  tensorsFromMap,
  type FrameData,
  type StepMessage,
  type WeightsMessage,
  type WelcomeMessage,
  type WorkerMessage,
} from '../protocol/index.js';
import { Replica, type PreparedBatch } from '../training/replica/replica.js';
import { openTrainingExamples, type TrainingExamples } from '../training/setup/trainingData.js';
import { variableShapes, namedVariables } from '../training/replica/variables.js';
import { checkCoordinatorUrl } from './connectDiagnosis.js';
import { ConnectAttempt, CoordinatorMessages, keepConnected, openCoordinatorSocket } from './coordinatorLink.js';
import { WorkerError } from './errors.js';
import { WORKER_REFUSED_EXIT_CODE, WORKER_RUN_STOPPED_EXIT_CODE } from './exitCodes.js';
import { WorkerHandshake } from './handshake.js';
import { DEFAULT_COORDINATOR_SILENCE_MS, watchForSilence } from './silenceWatch.js';

export interface RemoteWorkerOptions {
  url: string;
  workerId?: string;
  /** The run's shared secret: proven to the coordinator, never sent. */
  token: string;
  backend: BackendChoice;
  dataDir?: string;
  log: Logger;
  /** Give up when no coordinator answers for this long (ms). */
  giveUpAfterMs?: number;
  /** PEM certificate(s) to trust for a wss:// coordinator (e.g. its self-signed one); absent: the system's CAs. */
  tlsCa?: Buffer | string;
  /** Reconnect when nothing (no message, no ping) came from the coordinator for this long (ms); shorter once its ping rate is known (SILENCE_PING_INTERVALS). */
  coordinatorSilenceMs?: number;
}

/** Largest batch a worker agrees to compute a part of (the most indices a step may carry); its buffers are sized from the batch. */
export const MAX_BATCH_SIZE = DEFAULT_LIMITS.maxIndices;

export async function runRemoteWorker(o: RemoteWorkerOptions): Promise<void> {
  checkCoordinatorUrl(o.url);
  const backend = await initBackend(o.backend, (m) => o.log.debug(m));
  const worker = new RemoteWorker(o, backend);
  await worker.run();
}

class RemoteWorker {
  private readonly workerId: string;
  private replica?: Replica;
  private shapes = new Map<string, number[]>();
  private trainable: string[] = [];
  private moving: string[] = [];
  /** What weights from the coordinator must be: the variables of this run, nothing frozen, finite. */
  private contract?: TensorContract;
  /** The run's tensor element type, from the welcome. */
  private wireDtype: WireDtype = DEFAULT_WIRE_DTYPE;
  /** Most examples a step may ask for: the run's batch size, from the welcome. */
  private maxStepExamples = 0;
  private weightsVersion = -1;
  private prefetched?: PreparedBatch;
  private training?: { examples: TrainingExamples; key: string };
  private finished = false;
  private joinedOnce = false;
  /** Why the last connection attempt failed, in words (undefined after one that worked). */
  private lastFailure?: string;

  constructor(
    private readonly o: RemoteWorkerOptions,
    private readonly backend: { backend: string; device: string },
  ) {
    this.workerId = o.workerId ?? `${hostname()}-${process.pid}`;
  }

  async run(): Promise<void> {
    await keepConnected({
      url: this.o.url,
      log: this.o.log,
      giveUpAfterMs: this.o.giveUpAfterMs,
      connectOnce: () => this.connectOnce(),
      lastFailure: () => this.lastFailure,
      finished: () => this.finished,
    });
    this.replica?.dispose();
    this.logDataRead();
    await this.training?.examples.close();
  }

  /** How much of the training set this worker read: its shards, not the whole set. */
  private logDataRead(): void {
    const stats = this.training?.examples.readStats();
    if (!stats) return;
    const share = ((100 * stats.distinctRead) / stats.count).toFixed(1);
    this.o.log.debug(`read ${stats.imagesRead} training images from the cache, ${stats.distinctRead} different ones (${share}% of ${stats.count})`);
  }

  /** One connection's life; resolves true if the handshake succeeded. */
  private connectOnce(): Promise<boolean> {
    return new Promise((resolve) => {
      let welcomed = false;
      let byeReason: string | undefined;
      const socket = openCoordinatorSocket(this.o.url, this.o.tlsCa);
      const attempt = new ConnectAttempt(socket, this.o.url, this.o.tlsCa !== undefined, this.o.log);
      const send = (message: WorkerMessage) => socket.send(encodeMessage(message), { binary: true });
      const stopWatching = watchForSilence(socket, this.o.coordinatorSilenceMs ?? DEFAULT_COORDINATOR_SILENCE_MS, this.o.log);
      const handshake = new WorkerHandshake(this.o.token);
      socket.on('open', () => {
        send(
          handshake.hello({
            workerId: this.workerId,
            backend: this.backend.backend,
            device: this.backend.device,
            pid: process.pid,
            resume: this.joinedOnce,
          }),
        );
      });
      // Messages are handled one at a time, in order: a step must wait for the welcome before it.
      let queue = Promise.resolve();
      const messages = new CoordinatorMessages(socket, handshake, this.o.url, this.o.log, () => {
        this.finished = true;
        process.exitCode = WORKER_REFUSED_EXIT_CODE;
      });
      socket.on('message', (data: FrameData, isBinary: boolean) => {
        queue = queue.then(() => handle(data, isBinary));
      });
      const handle = async (data: FrameData, isBinary: boolean) => {
        const message = messages.read(data, isBinary);
        if (message === undefined) return;
        try {
          switch (message.type) {
            case 'welcome':
              await this.onWelcome(message);
              welcomed = true;
              this.joinedOnce = true;
              break;
            case 'step':
              await this.onStep(message, send);
              break;
            case 'weights':
              this.onWeights(message, send);
              break;
            case 'bye':
              // Whether the run is over or only stopped is the close code's to say.
              byeReason = message.reason;
              this.finished = true;
              socket.close(CloseCode.NORMAL, 'bye');
              break;
            case 'error':
              this.o.log.warn(`coordinator reports ${message.code}: ${message.message}`);
              break;
            default:
              this.o.log.debug(`ignored a ${message.type} message`);
          }
        } catch (error) {
          this.o.log.error(`while handling ${message.type}: ${(error as Error).message}`);
          send({ type: 'error', code: 'WORKER_FAILED', message: (error as Error).message.slice(0, 1000) });
        }
      };
      socket.on('close', (code, reason) => {
        stopWatching();
        if (code === CloseCode.RUN_FINISHED) {
          this.finished = true;
          this.o.log.info(`coordinator says bye: ${byeReason ?? 'run finished'}`);
        } else if (code === CloseCode.RUN_STOPPED || code === CloseCode.RUN_FAILED) {
          this.finished = true;
          // A stop someone asked for is no news; a run that failed is.
          (code === CloseCode.RUN_STOPPED ? this.o.log.info : this.o.log.warn)(
            `coordinator stopped the run before its end (${byeReason ?? reason.toString()}); exiting with code ${WORKER_RUN_STOPPED_EXIT_CODE} ` +
              'so that a supervisor (pm2, train) starts this worker again for the restarted coordinator',
          );
          process.exitCode = WORKER_RUN_STOPPED_EXIT_CODE;
        } else if (messages.refused) {
          // Already said why.
        } else if (code === CloseCode.RUN_FULL) {
          this.o.log.warn(`the run at ${this.o.url} is full (code ${code}); trying again later, in case a slot frees`);
        } else if (byeReason !== undefined) {
          this.o.log.info(`coordinator says bye: ${byeReason}`);
        } else if (code === CloseCode.BAD_TOKEN || code === CloseCode.VERSION_MISMATCH || code === CloseCode.DUPLICATE_WORKER_ID || code === CloseCode.EVICTED) {
          this.o.log.error(`coordinator refused this worker (code ${code}: ${reason}); not retrying`);
          this.finished = true;
          process.exitCode = WORKER_REFUSED_EXIT_CODE;
        } else if (!this.finished && welcomed) this.o.log.warn(`connection to ${this.o.url} closed (code ${code}${reason.length ? `, ${reason}` : ''})`);
        void attempt.failure(welcomed || this.finished, code, reason.toString()).then((why) => {
          this.lastFailure = why;
          resolve(welcomed);
        });
      });
    });
  }

  private async onWelcome(welcome: WelcomeMessage): Promise<void> {
    // The shapes of config and modelSpec were checked on receipt (the welcome's schema); these are the bounds beyond them,
    // checked before anything is allocated for them.
    const { config, modelSpec: spec } = welcome;
    checkModelSpec(spec, `welcome from ${this.o.url}: modelSpec`);
    const frozenLayers = config.frozenLayers ?? [];
    this.maxStepExamples = stepExampleBound(config.batchSize);
    // The data comes from this worker's own --data-dir (or the package's MNIST), never from a path the wire names.
    const dataKey = JSON.stringify([this.o.dataDir, config.classes]);
    if (this.training?.key !== dataKey) {
      await this.training?.examples.close();
      const examples = await openTrainingExamples({ classes: config.classes, dataDir: this.o.dataDir }, (m) => this.o.log.debug(m), this.o.dataDir);
      this.training = { examples, key: dataKey };
      this.replica?.dispose();
      this.replica = undefined;
    }
    if (!this.replica || JSON.stringify(this.replica.spec) !== JSON.stringify(spec) || JSON.stringify(this.replica.frozenLayers) !== JSON.stringify(frozenLayers)) {
      this.replica?.dispose();
      this.replica = new Replica(spec, this.training.examples.train, config.augmentShift, frozenLayers);
      this.shapes = variableShapes(namedVariables(this.replica.model));
    }
    this.trainable = welcome.trainable;
    this.moving = welcome.statistics ?? [...this.shapes.keys()].filter((n) => /moving_(mean|variance)$/.test(n));
    checkSameNames('trainable', welcome.trainable, this.replica.trainableNames(), frozenLayers);
    checkSameNames('statistics', this.moving, this.replica.movingStatisticNames(), frozenLayers);
    // The run's wire dtype, from the welcome: gradients go back in it (the moving statistics as float32).
    this.wireDtype = welcome.wireDtype ?? DEFAULT_WIRE_DTYPE;
    this.contract = new TensorContract(this.shapes, { trainable: this.trainable, statistics: this.moving }, this.wireDtype);
    const problem = this.contract.checkWeights(welcome.weights, true);
    if (problem) throw new WorkerError('WELCOME_MISMATCH', `welcome weights do not fit the model: ${problem.code}: ${problem.message}; the coordinator runs another model spec or frozen set than this worker`);
    this.replica.setWeights(mapFromTensors(welcome.weights));
    this.weightsVersion = welcome.weightsVersion;
    this.prefetched = undefined;
    this.o.log.info(`joined run ${welcome.runId} as worker ${welcome.shardInfo.workerIndex + 1}/${welcome.shardInfo.workers} at weights version ${welcome.weightsVersion} (${this.o.url}; computing on ${this.backend.backend}: ${this.backend.device})`);
  }

  private async onStep(step: StepMessage, send: (m: WorkerMessage) => void): Promise<void> {
    const replica = this.requireReplica();
    if (step.weightsVersion !== this.weightsVersion) {
      throw new WorkerError('STEP_REFUSED', `step ${step.step} is for weights version ${step.weightsVersion}, this worker holds ${this.weightsVersion}`);
    }
    this.checkIndices(step.step, 'indices', step.indices);
    if (step.nextIndices) this.checkIndices(step.step, 'nextIndices', step.nextIndices);
    const batch = replica.batchFor(step.indices, step.augmentSeed, this.prefetched);
    const contribution = await replica.compute(batch, step.step);
    const encodeStarted = performance.now();
    const message = {
      type: 'gradients' as const,
      step: step.step,
      weightsVersion: step.weightsVersion,
      workerId: this.workerId,
      exampleCount: contribution.count,
      loss: contribution.loss,
      correct: contribution.correct,
      gradients: tensorsFromMap(contribution.gradients, this.shapes, this.trainable, this.wireDtype),
      // Moving statistics always travel as float32 (variableDtypes.ts in the protocol).
      bnStats: tensorsFromMap(contribution.movingStatistics, this.shapes, this.moving),
      timings: { computeMs: contribution.computeMs, encodeMs: 0 },
    };
    message.timings.encodeMs = performance.now() - encodeStarted;
    send(message);
    // Numbered as the coordinator's log and metrics.jsonl number it (after the update: from 1).
    this.o.log.debug(`step ${step.step + 1}: ${contribution.count} examples, loss ${contribution.loss.toFixed(4)}, compute ${contribution.computeMs.toFixed(1)} ms, encode ${message.timings.encodeMs.toFixed(1)} ms`);
    // Gather the next batch while the coordinator aggregates and the weights travel.
    this.prefetched = step.nextIndices ? replica.prepare(step.nextIndices, step.nextAugmentSeed ?? step.augmentSeed) : undefined;
  }

  private onWeights(weights: WeightsMessage, send: (m: WorkerMessage) => void): void {
    const replica = this.requireReplica();
    const problem = this.contract?.checkWeights(weights.tensors, weights.full);
    if (problem) {
      const why = problem.code === 'NON_FINITE' ? problem.message : `${problem.code}: ${problem.message}`;
      this.o.log.warn(`refused weights version ${weights.weightsVersion}: ${why}`);
      send({ type: 'error', code: 'WEIGHTS_REFUSED', message: why });
      return;
    }
    replica.setWeights(mapFromTensors(weights.tensors));
    this.weightsVersion = weights.weightsVersion;
  }

  /** A step's indices are at most the run's batch size and each names an example this worker has; checked before any is read. */
  private checkIndices(step: number, field: string, indices: Int32Array): void {
    const count = this.training?.examples.train.count ?? 0;
    if (indices.length > this.maxStepExamples) {
      throw new WorkerError('STEP_REFUSED', `step ${step}: ${field} holds ${indices.length} examples, more than the run's batch size ${this.maxStepExamples}; refused before reading any`);
    }
    const outside = indices.findIndex((i) => i >= count);
    if (outside >= 0) throw new WorkerError('STEP_REFUSED', `step ${step}: ${field}[${outside}] is ${indices[outside]}, but this worker's training set has ${count} examples (0..${count - 1})`);
  }

  private requireReplica(): Replica {
    if (!this.replica) throw new WorkerError('OUT_OF_ORDER', 'received a step or weights before the welcome; the coordinator must send welcome first');
    return this.replica;
  }
}


/** The welcome's batch size as a bound on a step's examples: a positive integer up to MAX_BATCH_SIZE. */
function stepExampleBound(batchSize: unknown): number {
  if (typeof batchSize !== 'number' || !Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
    throw new WorkerError('WELCOME_MISMATCH', `welcome.config.batchSize: expected an integer from 1 to ${MAX_BATCH_SIZE}, got ${JSON.stringify(batchSize)}`);
  }
  return batchSize;
}

/** The welcome's variable list must be the one this worker's replica computes, or gradients would not fit. */
function checkSameNames(field: string, welcomed: readonly string[], replica: readonly string[], frozenLayers: readonly string[]): void {
  const mine = new Set(replica);
  const extra = welcomed.filter((n) => !mine.has(n));
  const theirs = new Set(welcomed);
  const missing = replica.filter((n) => !theirs.has(n));
  if (extra.length === 0 && missing.length === 0) return;
  const frozen = frozenLayers.length ? `frozen layers ${frozenLayers.join(', ')}` : 'no frozen layers';
  throw new WorkerError(
    'WELCOME_MISMATCH',
    `welcome.${field} does not match this worker's model (${frozen}): ` +
      [extra.length ? `it lists ${extra.slice(0, 5).join(', ')} that the model does not` : '', missing.length ? `it lacks ${missing.slice(0, 5).join(', ')}` : '']
        .filter(Boolean)
        .join('; '),
  );
}

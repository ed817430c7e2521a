// `dsdc-dist relay`: one member of the coordinator's run standing for several workers on this
// host. Upstream it is a worker (hello, the mutual proof of the token, reconnects with backoff);
// downstream it is a coordinator (LocalWorkersServer). Each step it splits its part of the
// global batch among its local workers, sends one gradients frame with their count-weighted
// mean and total example count, and fans the coordinator's weights out to them, so the
// coordinator's link carries one copy per host instead of one per worker. The run's end (bye and
// close code) is passed on to the local workers as the coordinator gave it.
import { hostname } from 'node:os';
import { WebSocket } from 'ws';
import { DEFAULT_JOIN_TIMEOUT_MS } from '../coordinator/coordinator.js';
import type { Logger } from '../log/logger.js';
import {
  CloseCode,
  encodeMessage,
  type FrameData,
  type Message,
  type StepMessage,
  type WeightsMessage,
  type WelcomeMessage,
  type WorkerMessage,
} from '../protocol/index.js';
import { checkCoordinatorUrl } from '../worker/connectDiagnosis.js';
import { ConnectAttempt, CoordinatorMessages, keepConnected, openCoordinatorSocket } from '../worker/coordinatorLink.js';
import { WORKER_REFUSED_EXIT_CODE, WORKER_RUN_STOPPED_EXIT_CODE } from '../worker/exitCodes.js';
import { WorkerHandshake } from '../worker/handshake.js';
import { DEFAULT_COORDINATOR_SILENCE_MS, watchForSilence } from '../worker/silenceWatch.js';
import { isCodedError } from '../errors/codedError.js';
import { RelayError } from './errors.js';
import { LocalWorkersServer, type LocalServingOptions } from './localWorkersServer.js';
import { localRequest, upstreamGradients } from './relayPart.js';
import { RelayRun } from './relayRun.js';

export const RELAY_BACKEND_NAME = 'relay';

export interface RelayOptions extends LocalServingOptions {
  /** The coordinator's URL. */
  url: string;
  /** This relay's member id at the coordinator (default relay-host-pid). */
  relayId?: string;
  tlsCa?: Buffer | string;
  giveUpAfterMs?: number;
  coordinatorSilenceMs?: number;
  /** How long the first step waits for all local workers to join. */
  joinTimeoutMs?: number;
  /** Called once the local port is bound, with the URL the local workers connect to. */
  onListening?: (url: string) => void;
}

/** Runs until the run ends for this relay; resolves with the exit status a worker would have (0, 2, 75). */
export async function runRelay(o: RelayOptions): Promise<number> {
  checkCoordinatorUrl(o.url);
  const relay = new Relay(o);
  await relay.run();
  return relay.exitCode;
}

class Relay {
  private readonly relayId: string;
  private readonly state = new RelayRun();
  /** Aborted when the run is over for this relay (a stop request, or the coordinator's end): a local step in flight is given up. */
  private readonly halt = new AbortController();
  private local?: LocalWorkersServer;
  private upstream?: WebSocket;
  private finished = false;
  private joinedOnce = false;
  private hadAllWorkers = false;
  private lastFailure?: string;
  /** The worker's exit status for how the run ended for this relay. */
  exitCode = 0;
  /** Upstream messages are handled one at a time, in order, across reconnects: a step waits for the welcome before it. */
  private queue = Promise.resolve();
  /** How the run ended upstream, passed on to the local workers. */
  private ending?: { reason: string; code: CloseCode };

  constructor(private readonly o: RelayOptions) {
    this.relayId = o.relayId ?? `relay-${hostname()}-${process.pid}`;
  }

  async run(): Promise<void> {
    const onStop = () => {
      this.finish('relay stopped (stop requested)', CloseCode.RUN_STOPPED);
      if (this.upstream?.readyState === WebSocket.OPEN) {
        this.upstream.send(encodeMessage({ type: 'bye', reason: 'relay stopped' }), { binary: true });
        this.upstream.close(CloseCode.NORMAL, 'relay stopped');
      } else this.upstream?.terminate();
    };
    this.o.stop?.addEventListener('abort', onStop, { once: true });
    try {
      await keepConnected({
        url: this.o.url,
        log: this.o.log,
        giveUpAfterMs: this.o.giveUpAfterMs,
        connectOnce: () => this.connectOnce(),
        lastFailure: () => this.lastFailure,
        finished: () => this.finished,
        onGiveUp: () => this.finish(`relay lost its coordinator at ${this.o.url}`, CloseCode.RUN_STOPPED),
      });
    } finally {
      this.o.stop?.removeEventListener('abort', onStop);
      await this.queue;
      const ending = this.ending ?? { reason: 'relay stopped', code: CloseCode.RUN_STOPPED };
      await this.local?.close(ending.reason, ending.code);
    }
  }

  /** The run is over for this relay: what its local workers will be told. */
  private finish(reason: string, code: CloseCode): void {
    this.finished = true;
    this.ending ??= { reason, code };
    this.halt.abort();
  }

  /**
   * Sends on the connection the answered message came on, if it is still the current one: an
   * answer to a step of a dropped connection would be a step the new one does not owe.
   */
  private send(socket: WebSocket, message: WorkerMessage): void {
    if (socket === this.upstream && socket.readyState === WebSocket.OPEN) socket.send(encodeMessage(message), { binary: true });
  }

  /** One upstream connection's life; resolves true if the handshake succeeded. */
  private connectOnce(): Promise<boolean> {
    return new Promise((resolve) => {
      let welcomed = false;
      let byeReason: string | undefined;
      const socket = openCoordinatorSocket(this.o.url, this.o.tlsCa);
      const attempt = new ConnectAttempt(socket, this.o.url, this.o.tlsCa !== undefined, this.o.log);
      this.upstream = socket;
      const stopWatching = watchForSilence(socket, this.o.coordinatorSilenceMs ?? DEFAULT_COORDINATOR_SILENCE_MS, this.o.log);
      const handshake = new WorkerHandshake(this.o.token);
      socket.on('open', () => {
        const hello = handshake.hello({ workerId: this.relayId, backend: RELAY_BACKEND_NAME, device: `relay on ${hostname()} for ${this.o.workers} workers`, pid: process.pid, resume: this.joinedOnce });
        socket.send(encodeMessage(hello), { binary: true });
      });
      const messages = new CoordinatorMessages(socket, handshake, this.o.url, this.o.log, (why) => {
        this.finish(`relay refused its coordinator: ${why}`, CloseCode.RUN_FAILED);
        this.exitCode = WORKER_REFUSED_EXIT_CODE;
      });
      socket.on('message', (data: FrameData, isBinary: boolean) => {
        const message = messages.read(data, isBinary);
        if (message === undefined) return;
        if (message.type === 'bye') {
          byeReason = message.reason;
          return;
        }
        // An eviction says why in an error just before its close frame: the local workers are told that.
        if (message.type === 'error' && message.code === 'EVICTED') byeReason = message.message;
        this.queue = this.queue.then(async () => {
          if (socket !== this.upstream) return;
          try {
            if (message.type === 'welcome') welcomed = (await this.onWelcome(message)) || welcomed;
            else await this.handle(message, (answer) => this.send(socket, answer));
          } catch (error) {
            this.o.log.error(`while handling ${message.type}: ${(error as Error).message}`);
            if (isCodedError(error) && error.code === 'RUN_CHANGED') {
              // Started again (as after a stopped run), the relay and its workers join the new run.
              this.exitCode = WORKER_RUN_STOPPED_EXIT_CODE;
              this.finish((error as Error).message, CloseCode.RUN_FAILED);
              socket.close(CloseCode.NORMAL, 'relay stopped');
              return;
            }
            this.send(socket, { type: 'error', code: isCodedError(error) ? error.code : 'RELAY_FAILED', message: (error as Error).message.slice(0, 1000) });
          }
        });
      });
      socket.on('close', (code, reasonBytes) => {
        stopWatching();
        const reason = byeReason ?? reasonBytes.toString();
        if (code === CloseCode.RUN_FINISHED || code === CloseCode.RUN_STOPPED || code === CloseCode.RUN_FAILED) {
          this.finish(reason || 'run over', code);
          if (code !== CloseCode.RUN_FINISHED) {
            this.o.log.info(`coordinator stopped the run before its end (${reason}); passing it on to the local workers, exiting with code ${WORKER_RUN_STOPPED_EXIT_CODE}`);
            this.exitCode = WORKER_RUN_STOPPED_EXIT_CODE;
          } else this.o.log.info(`coordinator says bye: ${reason || 'run finished'}`);
        } else if (code === CloseCode.EVICTED) {
          this.o.log.error(`coordinator evicted this relay (${reason}); its workers are told the same; not retrying`);
          this.finish(`relay evicted by the coordinator: ${reason}`, CloseCode.EVICTED);
          this.exitCode = WORKER_REFUSED_EXIT_CODE;
        } else if (code === CloseCode.BAD_TOKEN || code === CloseCode.VERSION_MISMATCH || code === CloseCode.DUPLICATE_WORKER_ID) {
          this.o.log.error(`coordinator refused this relay (code ${code}: ${reason}); not retrying`);
          this.finish(`relay refused by the coordinator (code ${code}: ${reason})`, CloseCode.RUN_FAILED);
          this.exitCode = WORKER_REFUSED_EXIT_CODE;
        } else if (code === CloseCode.RUN_FULL) {
          this.o.log.warn(`the run at ${this.o.url} is full (code ${code}); trying again later, in case a slot frees`);
        } else if (!this.finished && welcomed) this.o.log.warn(`connection to ${this.o.url} closed (code ${code}${reason.length ? `, ${reason}` : ''})`);
        void attempt.failure(welcomed || this.finished, code, reason).then((why) => {
          this.lastFailure = why;
          resolve(welcomed);
        });
      });
    });
  }

  /** Returns true once the relay is a member. */
  private async onWelcome(welcome: WelcomeMessage): Promise<boolean> {
    const adoption = this.state.adopt(welcome);
    this.joinedOnce = true;
    this.o.log.info(`joined run ${welcome.runId} as member ${welcome.shardInfo.workerIndex + 1}/${welcome.shardInfo.workers} at weights version ${welcome.weightsVersion}, for ${this.o.workers} local worker(s)`);
    if (adoption === 'first') {
      this.local = new LocalWorkersServer({ ...this.o, run: this.state, stop: this.halt.signal });
      const url = await this.local.listen();
      this.o.log.info(`serving local workers on ${url}`);
      this.o.onListening?.(url);
    } else {
      // The coordinator may have moved on (a restart from a checkpoint): the local workers catch up.
      this.local!.broadcast(this.state.fullWeights());
    }
    return true;
  }

  private async handle(message: Message, reply: (answer: WorkerMessage) => void): Promise<void> {
    switch (message.type) {
      case 'step':
        return this.onStep(message, reply);
      case 'weights':
        return this.onWeights(message, reply);
      case 'error':
        this.o.log.warn(`coordinator reports ${message.code}: ${message.message}`);
        return;
      default:
        this.o.log.debug(`ignored a ${message.type} message`);
    }
  }

  private async onStep(step: StepMessage, reply: (answer: WorkerMessage) => void): Promise<void> {
    const local = this.local;
    if (!local) throw new RelayError('OUT_OF_ORDER', `step ${step.step} came before the welcome`);
    if (step.weightsVersion !== this.state.version) {
      throw new RelayError('STEP_REFUSED', `step ${step.step} is for weights version ${step.weightsVersion}, this relay holds ${this.state.version}`);
    }
    if (!this.hadAllWorkers) {
      // The first step waits for every local worker, so the parts are what they will be for the run.
      await local.pool.waitForWorkers(this.o.workers, this.o.joinTimeoutMs ?? DEFAULT_JOIN_TIMEOUT_MS, this.halt.signal);
      this.hadAllWorkers = true;
    }
    const outcome = await local.source.computeStep(localRequest(step));
    const encodeStarted = performance.now();
    const message = upstreamGradients(step, this.relayId, outcome, { trainable: this.state.trainableNames, statistics: this.state.statisticNames, shapes: this.state.shapes, dtypeOf: this.state.dtypeOf });
    message.timings.encodeMs = performance.now() - encodeStarted;
    reply(message);
    this.o.log.debug(`step ${step.step + 1}: ${outcome.contribution.count} examples from ${outcome.workers} local worker(s)`);
  }

  private onWeights(weights: WeightsMessage, reply: (answer: WorkerMessage) => void): void {
    const problem = this.state.apply(weights);
    if (problem) {
      this.o.log.warn(`refused weights version ${weights.weightsVersion}: ${problem}`);
      reply({ type: 'error', code: 'WEIGHTS_REFUSED', message: problem });
      return;
    }
    this.local?.broadcast(weights);
  }
}

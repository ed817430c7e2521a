// Who is in the run: accepts WebSocket connections, runs the handshake (protocol version,
// token, unique worker id), admits at most `capacity` active members (further workers wait as
// standbys, beyond those they are refused as "run full"), dispatches each worker's messages,
// and notices workers leaving, stalling (missed heartbeats) and coming back. Every state change
// of a worker is a transition of its WorkerLife; this class only decides membership. Every
// received frame is decoded and validated by the protocol module before anything else sees it;
// a bad frame is logged with its sender and answered with an error, never applied. A worker that
// fell behind (stalled, or refused weights) is sent the current weights in full before it gets
// another step.
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '../log/logger.js';
import {
  CloseCode,
  PROTOCOL_VERSION,
  decodeFrame,
  encodeMessage,
  type DecodeLimits,
  type FrameData,
  type GradientsMessage,
  type HelloMessage,
  type WeightsMessage,
  type WelcomeMessage,
  closeFrameFor,
} from '../protocol/index.js';
import { tokensMatch } from './auth.js';
import { DEFAULT_HEARTBEAT_TIMEOUT_MS, Heartbeat } from './heartbeat.js';
import { WorkerConnection } from './workerConnection.js';
import type { Transition, WorkerState } from './workerLife.js';

export const HANDSHAKE_TIMEOUT_MS = 10_000;

export interface WorkerPoolOptions {
  token?: string;
  limits: Partial<DecodeLimits>;
  log: Logger;
  /** Most active members (--workers); further authenticated workers wait as standbys. */
  capacity: number;
  /** Most standbys; a worker beyond them is refused with CloseCode.RUN_FULL. Default: capacity. */
  maxStandby?: number;
  /** Frames refused in a row after which a worker is evicted; default DEFAULT_MAX_REFUSED_IN_ROW. */
  maxRefusedInRow?: number;
  /** Builds the welcome for a worker that takes a slot. */
  welcome: (hello: HelloMessage, index: number) => WelcomeMessage;
  /** The current weights, every variable, for a worker that has to catch up. */
  fullWeights: () => WeightsMessage;
  /** Silence after which a worker is treated as stalled; default DEFAULT_HEARTBEAT_TIMEOUT_MS. */
  heartbeatTimeoutMs?: number;
}

export interface WorkerPoolEvents {
  join: [worker: WorkerConnection];
  leave: [worker: WorkerConnection];
  stall: [worker: WorkerConnection];
  /** A well-formed gradients message from a member; the gradient source decides whether to accept it. */
  gradients: [worker: WorkerConnection, message: GradientsMessage, receivedAt: number, frameBytes: number];
}

export class WorkerPool extends EventEmitter<WorkerPoolEvents> {
  private readonly workers = new Map<string, WorkerConnection>();
  /** Ids evicted in this run: they are not let back in. */
  private readonly evicted = new Map<string, string>();
  private closing = false;
  private readonly heartbeat: Heartbeat;

  constructor(
    server: WebSocketServer,
    private readonly options: WorkerPoolOptions,
  ) {
    super();
    server.on('connection', (socket, request) => this.accept(socket, request));
    this.heartbeat = new Heartbeat({
      timeoutMs: options.heartbeatTimeoutMs ?? DEFAULT_HEARTBEAT_TIMEOUT_MS,
      workers: () => this.workers.values(),
      onSilent: (worker, silentMs) => worker.life.stalled(`no heartbeat for ${(silentMs / 1000).toFixed(1)} s`),
      onEvict: (worker, silentMs) => this.dropSilent(worker, silentMs),
    });
    this.heartbeat.start();
  }

  /** Members that have joined, not left and not stalled, in the order they joined. */
  active(): WorkerConnection[] {
    return [...this.workers.values()].filter((w) => w.life.isActive).sort((a, b) => a.joinedAt - b.joinedAt);
  }

  all(): WorkerConnection[] {
    return [...this.workers.values()];
  }

  /** Resolves once at least `count` workers are active, or early when `stop` is aborted. */
  waitForWorkers(count: number, timeoutMs: number, stop?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.active().length >= count || stop?.aborted) {
          cleanup();
          resolve();
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`only ${this.active().length} of ${count} workers joined within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.off('join', check);
        stop?.removeEventListener('abort', check);
      };
      this.on('join', check);
      stop?.addEventListener('abort', check);
      check();
    });
  }

  /** Says goodbye to every worker (they exit instead of reconnecting) and closes the sockets. */
  closeAll(reason: string): void {
    this.closing = true;
    this.heartbeat.stop();
    for (const worker of this.workers.values()) {
      if (worker.state === 'gone') continue;
      worker.send({ type: 'bye', reason });
      worker.socket.close(CloseCode.RUN_FINISHED, reason.slice(0, 100));
      worker.life.left('run finished');
    }
  }

  private accept(socket: WebSocket, request: IncomingMessage): void {
    const address = `${request.socket.remoteAddress}:${request.socket.remotePort}`;
    const log = this.options.log;
    if (this.closing) {
      socket.close(CloseCode.RUN_FINISHED, 'run finished');
      return;
    }
    const handshakeTimer = setTimeout(() => socket.close(CloseCode.HANDSHAKE_TIMEOUT, 'no hello in time'), HANDSHAKE_TIMEOUT_MS);
    let worker: WorkerConnection | undefined;
    let refused = false;
    socket.on('message', (data: FrameData, isBinary: boolean) => {
      // Frames already buffered behind a refused hello are never looked at.
      if (refused) return;
      const receivedAt = performance.now();
      const decoded = decodeFrame(data, isBinary, this.options.limits);
      const size = frameSize(data);
      if (worker) this.heard(worker);
      if (!decoded.ok) {
        log.warn(`refused a message from ${worker ? `worker ${worker.id} (${address})` : address}: ${decoded.error.code}: ${decoded.error.message}; nothing applied`);
        socket.send(encodeError(decoded.error.code, decoded.error.message), { binary: true });
        if (!worker) {
          refused = true;
          const close = closeFrameFor(decoded.error);
          socket.close(close.code, close.reason);
        } else {
          worker.life.refused(`${decoded.error.code}: ${decoded.error.message}`);
        }
        return;
      }
      const message = decoded.message;
      if (!worker) {
        clearTimeout(handshakeTimer);
        if (message.type !== 'hello') {
          refused = true;
          socket.close(CloseCode.UNEXPECTED_MESSAGE, `expected hello, got ${message.type}`);
          return;
        }
        worker = this.handshake(socket, message, address);
        if (!worker) refused = true;
        return;
      }
      worker.bytesReceived += size;
      switch (message.type) {
        case 'gradients':
          if (worker.life.isActive) this.emit('gradients', worker, message, receivedAt, size);
          else log.warn(`worker ${worker.id} sent gradients while ${worker.state}; ignored`);
          break;
        case 'heartbeat':
          break;
        case 'error':
          log.warn(`worker ${worker.id} reports ${message.code}: ${message.message}`);
          if (worker.life.owed) worker.life.timedOut(worker.life.owed.step, `worker reported ${message.code}`);
          // It may hold other weights than we think (it refused some): bring it up to date.
          this.resync(worker, `it reported ${message.code}`);
          break;
        case 'bye':
          log.info(`worker ${worker.id} leaves: ${message.reason}`);
          worker.life.left(`said bye (${message.reason})`);
          break;
        default:
          log.warn(`worker ${worker.id} sent an unexpected ${message.type} message; ignored`);
      }
    });
    socket.on('pong', () => {
      if (worker) this.heard(worker);
    });
    socket.on('close', (code, reason) => {
      clearTimeout(handshakeTimer);
      if (worker && this.workers.get(worker.id) === worker && worker.state !== 'gone') {
        log.warn(`worker ${worker.id} disconnected (code ${code}${reason.length ? `, ${reason}` : ''})`);
        worker.life.left(`connection closed (code ${code})`);
      }
    });
    socket.on('error', (error) => log.warn(`socket error from ${worker?.id ?? address}: ${error.message}`));
  }

  /** Something came from this worker: it is alive; a stalled one is resynced and rejoins (or waits for a slot). */
  private heard(worker: WorkerConnection): void {
    const silentMs = Date.now() - worker.lastSeen;
    worker.lastSeen = Date.now();
    if (worker.state !== 'stalled' || this.workers.get(worker.id) !== worker) return;
    const after = `after ${(silentMs / 1000).toFixed(1)} s of silence`;
    if (!this.hasFreeSlot()) {
      worker.life.stoodBy();
      this.options.log.warn(`worker ${worker.id} answers again ${after}; its slot was taken, so it waits as a standby`);
      return;
    }
    worker.life.rejoined(`answers again ${after}`);
    this.options.log.warn(`worker ${worker.id} answers again ${after}; it rejoins at the next step`);
    this.resync(worker, 'it was stalled', true);
    this.emit('join', worker);
  }

  /** Sends the current weights in full (at most once per version unless forced). */
  private resync(worker: WorkerConnection, why: string, force = false): void {
    if (worker.state === 'gone') return;
    const weights = this.options.fullWeights();
    if (!force && worker.resyncedVersion === weights.weightsVersion) return;
    worker.resyncedVersion = weights.weightsVersion;
    worker.send(weights);
    worker.life.sentWeights(weights.weightsVersion);
    this.options.log.info(`sent worker ${worker.id} the full weights, version ${weights.weightsVersion} (${why})`);
  }

  private dropSilent(worker: WorkerConnection, silentMs: number): void {
    this.options.log.warn(`worker ${worker.id} silent for ${(silentMs / 1000).toFixed(0)} s: disconnecting it; it may connect again`);
    worker.life.left(`silent for ${(silentMs / 1000).toFixed(0)} s`);
    worker.socket.terminate();
  }

  private hasFreeSlot(): boolean {
    return this.active().length < this.options.capacity;
  }

  /** What the pool does on each transition of a member's life: log, tell listeners, fill freed slots. */
  private onTransition(worker: WorkerConnection, transition: Transition, from: WorkerState, reason: string): void {
    const log = this.options.log;
    switch (transition) {
      case 'stalled':
        log.warn(
          `worker ${worker.id} (${worker.remoteAddress}) missed its heartbeats (${reason}): stalled; ` +
            'it gets no steps until it answers, and its part of the step in flight goes to the others',
        );
        this.emit('stall', worker);
        this.promoteStandby();
        break;
      case 'evicted':
        log.warn(`evicted worker ${worker.id} (${worker.remoteAddress}): ${reason}; closed with code ${CloseCode.EVICTED}, it is not let back into this run`);
        this.evicted.set(worker.id, reason);
        worker.socket.send(encodeError('EVICTED', `evicted: ${reason}`), { binary: true });
        worker.socket.close(CloseCode.EVICTED, 'evicted');
        if (from !== 'standby') this.emit('leave', worker);
        this.promoteStandby();
        break;
      case 'left':
        if (from !== 'standby' && from !== 'joining') this.emit('leave', worker);
        this.promoteStandby();
        break;
    }
  }

  /** A slot freed: the longest-waiting standby takes it. */
  private promoteStandby(): void {
    if (this.closing) return;
    const waiting = [...this.workers.values()].filter((w) => w.state === 'standby').sort((a, b) => a.joinedAt - b.joinedAt);
    for (const worker of waiting) {
      if (!this.hasFreeSlot()) return;
      this.admit(worker, 'promoted');
    }
  }

  /** Gives a worker a slot: the welcome (every weight) goes out and it is a member. */
  private admit(worker: WorkerConnection, how: 'joined' | 'promoted'): void {
    const welcome = this.options.welcome(worker.hello, this.active().length);
    worker.send(welcome);
    if (how === 'joined') worker.life.joined(welcome.weightsVersion);
    else worker.life.promoted(welcome.weightsVersion);
    worker.resyncedVersion = welcome.weightsVersion;
    this.emit('join', worker);
  }

  private handshake(socket: WebSocket, hello: HelloMessage, address: string): WorkerConnection | undefined {
    const log = this.options.log;
    if (hello.protocolVersion !== PROTOCOL_VERSION) {
      log.warn(`refused ${hello.workerId} from ${address}: protocol version ${hello.protocolVersion}, this coordinator speaks ${PROTOCOL_VERSION}`);
      socket.close(CloseCode.VERSION_MISMATCH, `protocol version ${PROTOCOL_VERSION} required`);
      return undefined;
    }
    if (this.options.token !== undefined && !tokensMatch(this.options.token, hello.token)) {
      log.warn(`refused ${hello.workerId} from ${address}: wrong or missing token; closed with code ${CloseCode.BAD_TOKEN}`);
      socket.close(CloseCode.BAD_TOKEN, 'bad token');
      return undefined;
    }
    return this.register(socket, hello, address);
  }

  /** An authenticated hello: a member if a slot is free, else a standby, else refused as full. */
  private register(socket: WebSocket, hello: HelloMessage, address: string): WorkerConnection | undefined {
    const log = this.options.log;
    const evictedFor = this.evicted.get(hello.workerId);
    if (evictedFor !== undefined) {
      log.warn(`refused ${hello.workerId} from ${address}: it was evicted from this run (${evictedFor}); closed with code ${CloseCode.EVICTED}`);
      socket.close(CloseCode.EVICTED, 'evicted from this run');
      return undefined;
    }
    const existing = this.workers.get(hello.workerId);
    if (existing && existing.state !== 'gone' && existing.state !== 'stalled') {
      log.warn(`refused a second connection claiming worker id ${hello.workerId} from ${address}; the live one (${existing.remoteAddress}) stays; closed with code ${CloseCode.DUPLICATE_WORKER_ID}`);
      socket.close(CloseCode.DUPLICATE_WORKER_ID, 'worker id already connected');
      return undefined;
    }
    if (existing?.state === 'stalled') {
      // A restarted worker whose old connection has not timed out yet: the new one replaces it.
      log.warn(`worker ${hello.workerId} connects again from ${address} while its old connection is stalled; dropping the old one`);
      existing.life.left('replaced by a new connection');
      existing.socket.terminate();
    }
    const standbys = this.all().filter((w) => w.state === 'standby').length;
    if (!this.hasFreeSlot() && standbys >= (this.options.maxStandby ?? this.options.capacity)) {
      log.warn(`refused ${hello.workerId} from ${address}: the run is full (${this.options.capacity} workers, ${standbys} standbys); closed with code ${CloseCode.RUN_FULL}`);
      socket.close(CloseCode.RUN_FULL, 'run is full');
      return undefined;
    }
    const worker: WorkerConnection = new WorkerConnection(socket, hello, address, {
      maxRefusedInRow: this.options.maxRefusedInRow,
      onTransition: (transition, from, _to, reason) => this.onTransition(worker, transition, from, reason),
    });
    this.workers.set(hello.workerId, worker);
    const joined = `worker ${hello.workerId} joined from ${address} (${hello.backend}, ${hello.device}, pid ${hello.pid})${existing ? ' again' : ''}`;
    if (this.hasFreeSlot()) {
      this.admit(worker, 'joined');
      log.info(joined);
    } else {
      worker.life.stoodBy();
      worker.send({ type: 'error', code: 'STANDBY', message: `the run has its ${this.options.capacity} workers; waiting as a standby until a slot frees` });
      log.info(`${joined} as a standby: all ${this.options.capacity} slots are taken`);
    }
    return worker;
  }
}

function frameSize(data: FrameData): number {
  if (Array.isArray(data)) return data.reduce((sum: number, f: Uint8Array) => sum + f.byteLength, 0);
  return (data as Uint8Array | ArrayBuffer).byteLength;
}

function encodeError(code: string, message: string): Uint8Array {
  return encodeMessage({ type: 'error', code, message: message.slice(0, 1000) });
}

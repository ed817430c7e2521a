// Who is in the run: accepts WebSocket connections, runs the handshake (protocol version,
// token, unique worker id), dispatches each worker's messages, and notices workers leaving,
// stalling (missed heartbeats) and coming back. Every received frame is decoded and validated
// by the protocol module before anything else sees it; a bad frame is logged with its sender
// and answered with an error, never applied. A worker that fell behind (stalled, or refused
// weights) is sent the current weights in full before it gets another step.
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

export const HANDSHAKE_TIMEOUT_MS = 10_000;

export interface WorkerPoolOptions {
  token?: string;
  limits: Partial<DecodeLimits>;
  log: Logger;
  /** Builds the welcome for a worker that passed the handshake. */
  welcome: (hello: HelloMessage, index: number) => WelcomeMessage;
  /** Called for every well-formed gradients message; the source decides whether to accept it. */
  onGradients: (worker: WorkerConnection, message: GradientsMessage, receivedAt: number, frameBytes: number) => void;
  /** The current weights, every variable, for a worker that has to catch up. */
  fullWeights: () => WeightsMessage;
  /** Silence after which a worker is treated as stalled; default DEFAULT_HEARTBEAT_TIMEOUT_MS. */
  heartbeatTimeoutMs?: number;
}

/** A bye's reason is free text on the wire, bounded like every text field. */
const MAX_BYE_REASON_CHARS = 1000;

function closeReason(code: CloseCode): string {
  return code === CloseCode.RUN_FINISHED ? 'run finished' : code === CloseCode.RUN_FAILED ? 'run failed' : 'run stopped';
}

export class WorkerPool extends EventEmitter {
  private readonly workers = new Map<string, WorkerConnection>();
  private closing = false;
  private closeCode: CloseCode = CloseCode.RUN_FINISHED;
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
      onSilent: (worker, silentMs) => this.stall(worker, silentMs),
      onEvict: (worker, silentMs) => this.evict(worker, silentMs),
    });
    this.heartbeat.start();
  }

  /** Workers that have joined, not left and not stalled, in the order they joined. */
  active(): WorkerConnection[] {
    return [...this.workers.values()].filter((w) => w.state === 'idle' || w.state === 'computing').sort((a, b) => a.joinedAt - b.joinedAt);
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
  closeAll(reason: string, code: CloseCode = CloseCode.RUN_FINISHED): void {
    this.closing = true;
    this.closeCode = code;
    this.heartbeat.stop();
    for (const worker of this.workers.values()) {
      if (worker.state === 'gone') continue;
      worker.send({ type: 'bye', reason: reason.slice(0, MAX_BYE_REASON_CHARS) });
      // The close frame's reason is capped at 123 bytes; the bye carries the full one.
      worker.socket.close(code, closeReason(code));
      worker.markGone('run finished');
    }
  }

  private accept(socket: WebSocket, request: IncomingMessage): void {
    const address = `${request.socket.remoteAddress}:${request.socket.remotePort}`;
    const log = this.options.log;
    if (this.closing) {
      socket.close(this.closeCode, closeReason(this.closeCode));
      return;
    }
    const handshakeTimer = setTimeout(() => socket.close(CloseCode.HANDSHAKE_TIMEOUT, 'no hello in time'), HANDSHAKE_TIMEOUT_MS);
    let worker: WorkerConnection | undefined;
    socket.on('message', (data: FrameData, isBinary: boolean) => {
      const receivedAt = performance.now();
      const decoded = decodeFrame(data, isBinary, this.options.limits);
      const size = frameSize(data);
      if (worker) this.heard(worker);
      if (!decoded.ok) {
        log.warn(`refused a message from ${worker ? `worker ${worker.id} (${address})` : address}: ${decoded.error.code}: ${decoded.error.message}; nothing applied`);
        socket.send(encodeError(decoded.error.code, decoded.error.message), { binary: true });
        if (!worker) {
          const close = closeFrameFor(decoded.error);
          socket.close(close.code, close.reason);
        }
        return;
      }
      const message = decoded.message;
      if (!worker) {
        if (message.type !== 'hello') {
          socket.close(CloseCode.UNEXPECTED_MESSAGE, `expected hello, got ${message.type}`);
          return;
        }
        clearTimeout(handshakeTimer);
        worker = this.handshake(socket, message, address);
        return;
      }
      worker.bytesReceived += size;
      switch (message.type) {
        case 'gradients':
          this.options.onGradients(worker, message, receivedAt, size);
          break;
        case 'heartbeat':
          break;
        case 'error':
          log.warn(`worker ${worker.id} reports ${message.code}: ${message.message}`);
          worker.failPendingStep(`worker reported ${message.code}`);
          // It may hold other weights than we think (it refused some): bring it up to date.
          this.resync(worker, `it reported ${message.code}`);
          break;
        case 'bye':
          log.info(`worker ${worker.id} leaves: ${message.reason}`);
          worker.markGone(`said bye (${message.reason})`);
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
        worker.markGone(`connection closed (code ${code})`);
        this.emit('leave', worker);
      }
    });
    socket.on('error', (error) => log.warn(`socket error from ${worker?.id ?? address}: ${error.message}`));
  }

  /** Something came from this worker: it is alive; a stalled one is resynced and rejoins. */
  private heard(worker: WorkerConnection): void {
    const silentMs = Date.now() - worker.lastSeen;
    worker.lastSeen = Date.now();
    if (worker.state !== 'stalled' || this.workers.get(worker.id) !== worker) return;
    worker.state = 'idle';
    this.options.log.warn(`worker ${worker.id} answers again after ${(silentMs / 1000).toFixed(1)} s of silence; it rejoins at the next step`);
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
    worker.weightsVersion = weights.weightsVersion;
    this.options.log.info(`sent worker ${worker.id} the full weights, version ${weights.weightsVersion} (${why})`);
  }

  private stall(worker: WorkerConnection, silentMs: number): void {
    worker.state = 'stalled';
    this.options.log.warn(
      `worker ${worker.id} (${worker.remoteAddress}) missed its heartbeats for ${(silentMs / 1000).toFixed(1)} s: stalled; ` +
        'it gets no steps until it answers, and its part of the step in flight goes to the others',
    );
    worker.failPendingStep(`stalled (no heartbeat for ${(silentMs / 1000).toFixed(1)} s)`);
    this.emit('stall', worker);
  }

  private evict(worker: WorkerConnection, silentMs: number): void {
    this.options.log.warn(`worker ${worker.id} silent for ${(silentMs / 1000).toFixed(0)} s: disconnecting it; it may connect again`);
    worker.markGone(`silent for ${(silentMs / 1000).toFixed(0)} s`);
    worker.socket.terminate();
    this.emit('leave', worker);
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
    const existing = this.workers.get(hello.workerId);
    if (existing && existing.state !== 'gone' && existing.state !== 'stalled') {
      log.warn(`refused a second connection claiming worker id ${hello.workerId} from ${address}; the live one (${existing.remoteAddress}) stays; closed with code ${CloseCode.DUPLICATE_WORKER_ID}`);
      socket.close(CloseCode.DUPLICATE_WORKER_ID, 'worker id already connected');
      return undefined;
    }
    if (existing?.state === 'stalled') {
      // A restarted worker whose old connection has not timed out yet: the new one replaces it.
      log.warn(`worker ${hello.workerId} connects again from ${address} while its old connection is stalled; dropping the old one`);
      existing.markGone('replaced by a new connection');
      existing.socket.terminate();
    }
    const worker = new WorkerConnection(socket, hello, address);
    this.workers.set(hello.workerId, worker);
    const welcome = this.options.welcome(hello, this.active().length);
    worker.send(welcome);
    worker.weightsVersion = welcome.weightsVersion;
    worker.state = 'idle';
    log.info(`worker ${hello.workerId} joined from ${address} (${hello.backend}, ${hello.device}, pid ${hello.pid})${existing ? ' again' : ''}`);
    this.emit('join', worker);
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

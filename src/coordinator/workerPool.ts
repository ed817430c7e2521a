// Who is in the run: accepts WebSocket connections within the admission limits, runs the
// handshake (protocol version, mutual proof of the token, unique worker id), admits at most `capacity` active members (further workers wait as
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
  DEFAULT_LIMITS,
  decodeFrame,
  setMaxPayload,
  encodeMessage,
  type DecodeLimits,
  type FrameData,
  type GradientsMessage,
  type HelloMessage,
  type WeightsMessage,
  type WelcomeMessage,
  closeFrameFor,
} from '../protocol/index.js';
import { Admission, type AdmissionRefusal } from './admission.js';
import { CoordinatorHandshake, HANDSHAKE_MAX_PAYLOAD_BYTES, HANDSHAKE_TIMEOUT_MS } from './handshake.js';
import { CoordinatorError } from './errors.js';
import { DEFAULT_HEARTBEAT_TIMEOUT_MS, Heartbeat } from './heartbeat.js';
import { WorkerConnection, type WireTotals } from './workerConnection.js';
import type { Transition, WorkerState } from './workerLife.js';

/** How long a refused peer has to close in turn before its socket is destroyed. */
const CLOSE_GRACE_MS = 1_000;

export interface WorkerPoolOptions {
  /** Log joins at debug: the workers are this process's own (train), and the start line counts them. */
  quietJoins?: boolean;
  /** The run's shared secret; workers prove they know it (and so does the coordinator). */
  token: string;
  /** Most connections in their handshake at once; default DEFAULT_MAX_PENDING_HANDSHAKES. */
  maxPendingHandshakes?: number;
  /** Default HANDSHAKE_TIMEOUT_MS. */
  handshakeTimeoutMs?: number;
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

/** A bye's reason is free text on the wire, bounded like every text field. */
const MAX_BYE_REASON_CHARS = 1000;

function closeReason(code: CloseCode): string {
  if (code === CloseCode.EVICTED) return 'evicted';
  return code === CloseCode.RUN_FINISHED ? 'run finished' : code === CloseCode.RUN_FAILED ? 'run failed' : 'run stopped';
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
  private closeCode: CloseCode = CloseCode.RUN_FINISHED;
  private readonly heartbeat: Heartbeat;
  private readonly admission: Admission;
  /** Frame bytes both ways over every connection of the run (for /metrics counters). */
  readonly wireTotals: WireTotals = { sent: 0, received: 0 };

  constructor(private readonly options: WorkerPoolOptions) {
    super();
    this.admission = new Admission({ maxPending: options.maxPendingHandshakes });
    this.heartbeat = new Heartbeat({
      timeoutMs: options.heartbeatTimeoutMs ?? DEFAULT_HEARTBEAT_TIMEOUT_MS,
      workers: () => this.workers.values(),
      onSilent: (worker, silentMs) => this.stall(worker, silentMs),
      onEvict: (worker, silentMs) => this.dropSilent(worker, silentMs),
    });
    this.heartbeat.start();
  }

  /** Takes the connections of this server (whose verifyClient asked upgradeRefusal first). */
  serve(server: WebSocketServer): void {
    server.on('connection', (socket, request) => this.accept(socket, request));
  }

  /** Members that have joined, not left and not stalled, in the order they joined. */
  active(): WorkerConnection[] {
    return [...this.workers.values()].filter((w) => w.life.isActive).sort((a, b) => a.joinedAt - b.joinedAt);
  }

  /** Connections that have not finished their handshake. */
  get pendingHandshakes(): number {
    return this.admission.pending;
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
        reject(
          new CoordinatorError(
            'WORKERS_MISSING',
            `only ${this.active().length} of ${count} workers joined within ${Math.round(timeoutMs / 1000)} s; check that the workers can reach this coordinator (their logs say why not), or start fewer`,
          ),
        );
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

  /**
   * Says goodbye to every worker (they exit instead of reconnecting) and closes the sockets. With
   * EVICTED (a relay evicted upstream passes it on) they are told as an eviction tells them: an
   * error, no bye, so that they do not take it for the run's end.
   */
  closeAll(reason: string, code: CloseCode = CloseCode.RUN_FINISHED): void {
    this.closing = true;
    this.closeCode = code;
    this.heartbeat.stop();
    for (const worker of this.workers.values()) {
      if (worker.state === 'gone') continue;
      if (code === CloseCode.EVICTED) worker.send({ type: 'error', code: 'EVICTED', message: reason.slice(0, MAX_BYE_REASON_CHARS) });
      else worker.send({ type: 'bye', reason: reason.slice(0, MAX_BYE_REASON_CHARS) });
      // The close frame's reason is capped at 123 bytes; the bye carries the full one.
      worker.socket.close(code, closeReason(code));
      worker.life.left(closeReason(code));
    }
  }

  /** Whether a WebSocket upgrade may go ahead (called by the server's verifyClient, before any frame). */
  upgradeRefusal(address: string): AdmissionRefusal | undefined {
    if (this.closing) return { status: 503, reason: 'run finished' };
    return this.admission.refusal(address);
  }

  private accept(socket: WebSocket, request: IncomingMessage): void {
    const ip = request.socket.remoteAddress ?? 'unknown';
    const address = `${ip}:${request.socket.remotePort}`;
    const log = this.options.log;
    if (this.closing) {
      socket.close(this.closeCode, closeReason(this.closeCode));
      return;
    }
    const refusal = this.admission.refusal(ip);
    if (refusal) {
      socket.close(CloseCode.TRY_AGAIN_LATER, refusal.reason.slice(0, 100));
      return;
    }
    const endHandshake = this.admission.begin();
    const handshake = new CoordinatorHandshake(this.options.token);
    const handshakeTimer = setTimeout(() => {
      log.warn(`closed the connection from ${address}: no handshake within ${HANDSHAKE_TIMEOUT_MS / 1000} s`);
      refuse(CloseCode.HANDSHAKE_TIMEOUT, 'no handshake in time');
    }, this.options.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS);
    let worker: WorkerConnection | undefined;
    let refused = false;
    const refuse = (code: number, reason: string) => {
      refused = true;
      clearTimeout(handshakeTimer);
      endHandshake();
      socket.close(code, reason);
      // A peer that does not close in turn is not waited for.
      setTimeout(() => socket.terminate(), CLOSE_GRACE_MS).unref();
    };
    socket.on('message', (data: FrameData, isBinary: boolean) => {
      // Frames already buffered behind a refused handshake are never looked at.
      if (refused) return;
      const receivedAt = performance.now();
      const decoded = decodeFrame(data, isBinary, worker ? this.options.limits : { ...this.options.limits, maxPayloadBytes: HANDSHAKE_MAX_PAYLOAD_BYTES });
      const size = frameSize(data);
      if (worker) this.heard(worker);
      if (!decoded.ok) {
        log.warn(`refused a message from ${worker ? `worker ${worker.id} (${address})` : address}: ${decoded.error.code}: ${decoded.error.message}; nothing applied`);
        if (!worker) {
          this.admission.failed(ip);
          const close = closeFrameFor(decoded.error);
          return refuse(close.code, close.reason);
        }
        socket.send(encodeError(decoded.error.code, decoded.error.message), { binary: true });
        worker.life.refused(`${decoded.error.code}: ${decoded.error.message}`);
        return;
      }
      const message = decoded.message;
      if (!worker) {
        const step = handshake.receive(message);
        if (step.kind === 'challenge') {
          socket.send(encodeMessage(step.challenge), { binary: true });
          return;
        }
        if (step.kind === 'refused') {
          log.warn(`refused ${handshake.claimedId ?? 'a connection'} from ${address}: ${step.log}`);
          this.admission.failed(ip);
          return refuse(step.code, step.reason);
        }
        clearTimeout(handshakeTimer);
        endHandshake();
        this.admission.succeeded(ip);
        worker = this.register(socket, step.hello, address);
        if (!worker) refused = true;
        else setMaxPayload(socket, this.options.limits.maxPayloadBytes ?? DEFAULT_LIMITS.maxPayloadBytes);
        return;
      }
      worker.bytesReceived += size;
      this.wireTotals.received += size;
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
      endHandshake();
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

  private stall(worker: WorkerConnection, silentMs: number): void {
    const seconds = (silentMs / 1000).toFixed(1);
    if (!worker.life.isActive) return;
    this.options.log.warn(
      `worker ${worker.id} (${worker.remoteAddress}) missed its heartbeats for ${seconds} s: stalled; ` +
        'it gets no steps until it answers, and its part of the step in flight goes to the others',
    );
    worker.life.stalled(`no heartbeat for ${seconds} s`);
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
    }, this.wireTotals);
    this.workers.set(hello.workerId, worker);
    const joined = `worker ${hello.workerId} joined from ${address} (${hello.backend}, ${hello.device}, pid ${hello.pid})${existing ? ' again' : ''}`;
    if (this.hasFreeSlot()) {
      this.admit(worker, 'joined');
      (this.options.quietJoins ? log.debug : log.info)(joined);
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

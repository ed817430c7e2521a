// One worker's connection as the coordinator sees it: its identity, its socket, the counters the
// dashboard shows, and its life (workerLife.ts), the one place its state changes.
import type { WebSocket } from 'ws';
import { encodeMessage, type CoordinatorMessage, type GradientsMessage, type HelloMessage } from '../protocol/index.js';
import { WorkerLife, type WorkerLifeOptions, type WorkerState } from './workerLife.js';

export type { WorkerState } from './workerLife.js';

/** What an accepted step delivers to the gradient source. */
export interface AcceptedGradients {
  message: GradientsMessage;
  receivedAt: number;
  frameBytes: number;
}

/** Bytes of frames over all connections of a run, for counters that must never go down. */
export interface WireTotals {
  sent: number;
  received: number;
}

export class WorkerConnection {
  readonly life: WorkerLife<AcceptedGradients>;
  lastStepMs = 0;
  lastStepExamples = 0;
  stepsDone = 0;
  bytesSent = 0;
  bytesReceived = 0;
  /** When anything (a frame or a pong) last came from this worker, by Date.now(). */
  lastSeen = Date.now();
  /** What the worker said of its last accepted part: unverifiable, so shown in its row and used for nothing else. */
  claims?: { loss: number; accuracy: number };
  /** Weights version last sent to this worker in full after it fell behind (one resync per version). */
  resyncedVersion = -1;
  readonly joinedAt = Date.now();

  constructor(
    readonly socket: WebSocket,
    readonly hello: HelloMessage,
    readonly remoteAddress: string,
    lifeOptions: Omit<WorkerLifeOptions, 'id'> = {},
    /** The pool's running totals, which outlive this connection. */
    private readonly wireTotals?: WireTotals,
  ) {
    this.life = new WorkerLife({ ...lifeOptions, id: hello.workerId });
  }

  get id(): string {
    return this.hello.workerId;
  }

  get state(): WorkerState {
    return this.life.state;
  }

  send(message: CoordinatorMessage): number {
    return this.sendEncoded(encodeMessage(message));
  }

  /** Sends bytes already encoded (a broadcast encodes once for every worker). */
  sendEncoded(bytes: Uint8Array): number {
    if (this.state === 'gone') return 0;
    this.socket.send(bytes, { binary: true });
    this.bytesSent += bytes.byteLength;
    if (this.wireTotals) this.wireTotals.sent += bytes.byteLength;
    return bytes.byteLength;
  }

  /** A step's part was accepted: the figures of the worker's row. */
  recordStep(roundTripMs: number, examples: number): void {
    this.stepsDone += 1;
    this.lastStepMs = roundTripMs;
    this.lastStepExamples = examples;
  }

  describe() {
    return {
      id: this.id,
      state: this.life.wasEvicted ? 'evicted' : this.state,
      ...(this.life.goneReason ? { reason: this.life.goneReason } : {}),
      backend: this.hello.backend,
      device: this.hello.device,
      pid: this.hello.pid,
      address: this.remoteAddress,
      weights_version: this.life.weightsVersion,
      steps: this.stepsDone,
      last_step_ms: Math.round(this.lastStepMs),
      images_per_s: this.lastStepMs > 0 ? Math.round((1000 * this.lastStepExamples) / this.lastStepMs) : 0,
      bytes_sent: this.bytesSent,
      bytes_received: this.bytesReceived,
      claimed_loss: this.claims?.loss,
      claimed_accuracy: this.claims?.accuracy,
    };
  }
}

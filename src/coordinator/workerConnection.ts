// One worker's connection as the coordinator sees it: its identity, its state, sending typed
// messages, and the gradients it owes for the step in flight. A worker that misses its
// heartbeats is 'stalled': it gets no steps until it answers again and has been resynced.
import type { WebSocket } from 'ws';
import { encodeMessage, type CoordinatorMessage, type GradientsMessage, type HelloMessage } from '../protocol/index.js';

export type WorkerState = 'joining' | 'idle' | 'computing' | 'stalled' | 'gone';

export interface PendingStep {
  step: number;
  exampleCount: number;
  sentAt: number;
  resolve: (message: GradientsMessage, receivedAt: number, frameBytes: number) => void;
  reject: (reason: Error) => void;
}

export class WorkerConnection {
  state: WorkerState = 'joining';
  weightsVersion = -1;
  lastStepMs = 0;
  lastStepExamples = 0;
  stepsDone = 0;
  bytesSent = 0;
  bytesReceived = 0;
  /** When anything (a frame or a pong) last came from this worker, by Date.now(). */
  lastSeen = Date.now();
  pending?: PendingStep;
  /** What the worker said of its last accepted part: unverifiable, so shown in its row and used for nothing else. */
  claims?: { loss: number; accuracy: number };
  /** The last step this worker's part was given up on (timeout, stall): its gradients for it are late. */
  abandonedStep = -1;
  /** Weights version last sent to this worker in full after it fell behind (one resync per version). */
  resyncedVersion = -1;
  readonly joinedAt = Date.now();

  constructor(
    readonly socket: WebSocket,
    readonly hello: HelloMessage,
    readonly remoteAddress: string,
  ) {}

  get id(): string {
    return this.hello.workerId;
  }

  send(message: CoordinatorMessage): number {
    return this.sendEncoded(encodeMessage(message));
  }

  /** Sends bytes already encoded (a broadcast encodes once for every worker). */
  sendEncoded(bytes: Uint8Array): number {
    if (this.state === 'gone') return 0;
    this.socket.send(bytes, { binary: true });
    this.bytesSent += bytes.byteLength;
    return bytes.byteLength;
  }

  /** Marks the worker gone and fails the step it owed, so the step can finish without it. */
  markGone(reason: string): void {
    if (this.state === 'gone') return;
    this.state = 'gone';
    this.failPendingStep(`left (${reason})`);
  }

  /** Gives up on the gradients this worker owes for the step in flight, if any. */
  failPendingStep(reason: string): void {
    const pending = this.pending;
    this.pending = undefined;
    if (pending) this.abandonedStep = pending.step;
    pending?.reject(new Error(`worker ${this.id} ${reason} during step ${pending.step}`));
  }

  describe() {
    return {
      id: this.id,
      state: this.state,
      backend: this.hello.backend,
      device: this.hello.device,
      pid: this.hello.pid,
      address: this.remoteAddress,
      weights_version: this.weightsVersion,
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

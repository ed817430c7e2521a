// A scripted peer for the bad-input tests: it speaks the protocol by hand over a real WebSocket,
// so a test can send exactly the broken, hostile or late frame it wants and see the answer.
import { once } from 'node:events';
import { Packr } from 'msgpackr';
import { WebSocket } from 'ws';
import {
  PROTOCOL_VERSION,
  coordinatorProof,
  decodeFrame,
  makeNonce,
  proofsMatch,
  workerProof,
  type ChallengeMessage,
  decodeTensorValues,
  elementCount,
  encodeMessage,
  encodeTensor,
  type GradientsMessage,
  type HelloMessage,
  type Message,
  type StepMessage,
  type WelcomeMessage,
  type WireTensor,
} from '../../src/protocol/index.js';

const STATISTIC = /moving_(mean|variance)$/;

/** Plain msgpack, for frames the typed encoder would never produce. */
export const rawPack = new Packr({ useRecords: false, variableMapSize: true } as never);

/** A hello's fields to override, and the token to prove (none: a wrong proof). */
export type RogueHello = Partial<Omit<HelloMessage, 'type' | 'nonce'>> & { token?: string };

const HANDSHAKE_WAIT_MS = 30_000;

export interface Closed {
  code: number;
  reason: string;
}

export class RogueWorker {
  readonly received: Message[] = [];
  workerId = 'rogue';
  /** Whether the coordinator's challenge proved the token this rogue was given. */
  coordinatorProven = false;
  readonly closed: Promise<Closed>;
  welcome?: WelcomeMessage;
  /** The run's batch-norm statistics as last heard (welcome, then weights broadcasts): a plausible answer reports them. */
  readonly statistics = new Map<string, Float32Array>();
  private readonly waiters: { match: (m: Message) => boolean; resolve: (m: Message) => void }[] = [];

  private constructor(readonly socket: WebSocket) {
    this.closed = new Promise((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    socket.on('message', (data, isBinary) => {
      const decoded = decodeFrame(data as Buffer, isBinary);
      if (!decoded.ok) throw new Error(`the coordinator sent an undecodable frame: ${decoded.error.message}`);
      const message = decoded.message;
      if (message.type === 'welcome') this.welcome = message;
      if (message.type === 'welcome' || message.type === 'weights') {
        for (const t of message.type === 'welcome' ? message.weights : message.tensors) {
          if (STATISTIC.test(t.name)) this.statistics.set(t.name, decodeTensorValues(t).slice());
        }
      }
      const waiter = this.waiters.find((w) => w.match(message));
      if (waiter) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(message);
      } else {
        this.received.push(message);
      }
    });
    socket.on('error', () => {});
  }

  /**
   * Opens a connection and runs the handshake: a hello (fields may be overridden, or the hello
   * skipped), then, when the coordinator answers with its challenge, an auth proving `token`
   * (a random proof without one). Resolves once the auth is sent or the connection closed.
   */
  static async connect(url: string, hello: RogueHello | null, options: { ca?: Buffer; headers?: Record<string, string>; localAddress?: string } = {}): Promise<RogueWorker> {
    const socket = new WebSocket(url, { ...(options.ca ? { ca: options.ca } : {}), ...(options.headers ? { headers: options.headers } : {}), ...(options.localAddress ? { localAddress: options.localAddress } : {}) });
    const rogue = new RogueWorker(socket);
    await once(socket, 'open');
    if (!hello) return rogue;
    const { token, ...fields } = hello;
    rogue.workerId = fields.workerId ?? 'rogue';
    const nonce = makeNonce();
    rogue.send({ type: 'hello', workerId: 'rogue', protocolVersion: PROTOCOL_VERSION, backend: 'none', device: 'test script', pid: process.pid, nonce, ...fields } as HelloMessage);
    const challenge = await Promise.race([
      rogue.next((m): m is ChallengeMessage => m.type === 'challenge', HANDSHAKE_WAIT_MS, 'challenge'),
      rogue.closed.then(() => undefined),
    ]);
    if (!challenge) return rogue;
    rogue.coordinatorProven = token !== undefined && proofsMatch(coordinatorProof(token, nonce, challenge.nonce), challenge.proof);
    rogue.send({ type: 'auth', proof: token === undefined ? makeNonce() : workerProof(token, challenge.nonce, nonce) });
    return rogue;
  }

  /** How the coordinator closed this connection; fails after `timeoutMs`. */
  closedWithin(timeoutMs: number): Promise<Closed> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`rogue worker: connection not closed within ${timeoutMs} ms`)), timeoutMs);
    });
    return Promise.race([this.closed, timeout]).finally(() => clearTimeout(timer));
  }

  send(message: Message): void {
    this.socket.send(encodeMessage(message), { binary: true });
  }

  sendRaw(value: unknown): void {
    this.socket.send(rawPack.pack(value), { binary: true });
  }

  /** The next message matching `match` (already received or still to come). */
  next<T extends Message>(match: (m: Message) => m is T, timeoutMs: number, what: string): Promise<T> {
    const index = this.received.findIndex(match);
    if (index >= 0) return Promise.resolve(this.received.splice(index, 1)[0] as T);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`rogue worker: no ${what} within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        match,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m as T);
        },
      });
    });
  }

  nextStep(timeoutMs = 60_000): Promise<StepMessage> {
    return this.next((m): m is StepMessage => m.type === 'step', timeoutMs, 'step');
  }

  nextError(timeoutMs = 10_000) {
    return this.next((m): m is Extract<Message, { type: 'error' }> => m.type === 'error', timeoutMs, 'error');
  }

  /** Names and shapes of the gradients and batch-norm statistics a worker must send. */
  specs(): { gradients: Map<string, number[]>; statistics: Map<string, number[]> } {
    const welcome = this.welcome!;
    const shapes = new Map(welcome.weights.map((t) => [t.name, t.shape]));
    const statistics = [...shapes.keys()].filter((n) => STATISTIC.test(n));
    return {
      gradients: new Map(welcome.trainable.map((n) => [n, shapes.get(n)!])),
      statistics: new Map(statistics.map((n) => [n, shapes.get(n)!])),
    };
  }

  /** A well-formed answer to `step`: gradients filled with `fill`, and the run's own batch-norm statistics. */
  gradientsFor(step: StepMessage, fill = 0): GradientsMessage {
    const { gradients, statistics } = this.specs();
    const tensors = (specs: Map<string, number[]>, value: number): WireTensor[] =>
      [...specs].map(([name, shape]) => encodeTensor(name, shape, this.statistics.get(name) ?? new Float32Array(elementCount(shape)).fill(value)));
    return {
      type: 'gradients',
      step: step.step,
      weightsVersion: step.weightsVersion,
      workerId: this.workerId,
      exampleCount: step.indices.length,
      loss: 2.3,
      correct: 0,
      gradients: tensors(gradients, fill),
      bnStats: tensors(statistics, 1),
      timings: { computeMs: 1, encodeMs: 0 },
    };
  }

  close(): void {
    this.socket.terminate();
  }
}

// The relay between a coordinator and its workers, in this process, with both ends played by
// hand over real sockets: the coordinator side by a WebSocket server that answers the handshake,
// the workers by clients that do the worker's handshake (no model needed: the relay never
// computes). It checks what passes through: the welcome, one step's part split and summed by
// example count, the weights fanned out, a lost local part reported as failed, and the run's
// end (4011 with its bye, 4009 as an eviction) as the coordinator gave it.
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { createLogger } from '../../src/log/logger.js';
import { CloseCode, decodeFrame, decodeTensorValues, encodeMessage, encodeTensor, type Message, type WelcomeMessage, type WorkerMessage } from '../../src/protocol/index.js';
import { runRelay } from '../../src/relay/relay.js';
import { DEFAULT_TRAIN_CONFIG } from '../../src/training/setup/config.js';
import { WorkerHandshake } from '../../src/worker/handshake.js';
import { TEST_TOKEN } from '../helpers/cli.js';
import { answerHandshake } from '../reliability/scriptedCoordinator.js';

const TIMEOUT_MS = 20_000;

/** Messages of one socket, awaited in order of arrival. */
class Inbox {
  readonly messages: Message[] = [];
  private waiting?: () => void;
  closed?: { code: number; reason: string };

  constructor(readonly socket: WebSocket) {
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      const decoded = decodeFrame(data, isBinary);
      if (decoded.ok) this.messages.push(decoded.message);
      this.waiting?.();
    });
    socket.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.waiting?.();
    });
  }

  async next<T extends Message['type']>(type: T): Promise<Extract<Message, { type: T }>> {
    const deadline = Date.now() + TIMEOUT_MS;
    for (;;) {
      const index = this.messages.findIndex((m) => m.type === type);
      if (index >= 0) return this.messages.splice(index, 1)[0] as Extract<Message, { type: T }>;
      if (Date.now() > deadline || this.closed) throw new Error(`no ${type} message (closed: ${JSON.stringify(this.closed)}; got ${this.messages.map((m) => m.type).join(', ')})`);
      await new Promise<void>((resolve) => {
        this.waiting = resolve;
        setTimeout(resolve, 200);
      });
    }
  }

  async close(): Promise<{ code: number; reason: string }> {
    const deadline = Date.now() + TIMEOUT_MS;
    while (!this.closed && Date.now() < deadline) await new Promise<void>((resolve) => ((this.waiting = resolve), setTimeout(resolve, 200)));
    if (!this.closed) throw new Error('the socket did not close');
    return this.closed;
  }

  send(message: Message): void {
    this.socket.send(encodeMessage(message), { binary: true });
  }
}

/** A worker reduced to its handshake: connects to the relay and proves the token. */
async function localWorker(url: string, id: string): Promise<Inbox> {
  const socket = new WebSocket(url);
  const inbox = new Inbox(socket);
  const handshake = new WorkerHandshake(TEST_TOKEN);
  await new Promise((resolve) => socket.once('open', resolve));
  socket.send(encodeMessage(handshake.hello({ workerId: id, backend: 'test', device: 'test', pid: 1 })), { binary: true });
  const answer = handshake.receive(await inbox.next('challenge'));
  if (answer.kind !== 'auth') throw new Error(answer.why);
  socket.send(encodeMessage(answer.auth), { binary: true });
  return inbox;
}

const WELCOME: WelcomeMessage = {
  type: 'welcome',
  runId: 'scripted',
  config: { ...DEFAULT_TRAIN_CONFIG, batchSize: 8 },
  modelSpec: DEFAULT_TRAIN_CONFIG.model,
  weightsVersion: 5,
  weights: [encodeTensor('a/kernel', [4], Float32Array.from([1, 2, 3, 4])), encodeTensor('bn/moving_mean', [2], Float32Array.from([0, 0]))],
  trainable: ['a/kernel'],
  statistics: ['bn/moving_mean'],
  shardInfo: { workerIndex: 0, workers: 1 },
};

function gradientsOf(id: string, step: number, count: number, value: number, mean: number): WorkerMessage {
  return {
    type: 'gradients',
    step,
    weightsVersion: 5,
    workerId: id,
    exampleCount: count,
    loss: value,
    correct: 1,
    gradients: [encodeTensor('a/kernel', [4], new Float32Array(4).fill(value))],
    bnStats: [encodeTensor('bn/moving_mean', [2], new Float32Array(2).fill(mean))],
    timings: { computeMs: 10, encodeMs: 0 },
  };
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A scripted coordinator, a relay for `workers` local workers, and those workers connected and welcomed. */
async function relayWithWorkers(workers: number) {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => server.once('listening', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const upstreamSocket = new Promise<WebSocket>((resolve) => server.once('connection', resolve));
  let localUrl!: (url: string) => void;
  const listening = new Promise<string>((resolve) => (localUrl = resolve));
  const stop = new AbortController();
  const relay = runRelay({
    url: `ws://127.0.0.1:${(server.address() as { port: number }).port}`,
    relayId: 'relay-test',
    token: TEST_TOKEN,
    workers,
    host: '127.0.0.1',
    port: 0,
    stepTimeoutMs: 5_000,
    heartbeatTimeoutMs: 30_000,
    joinTimeoutMs: 10_000,
    log: createLogger('relay', 'error'),
    stop: stop.signal,
    onListening: (url) => localUrl(url),
  });
  cleanups.push(async () => {
    stop.abort();
    await relay;
  });
  const socket = await upstreamSocket;
  const hello = await answerHandshake(socket, TEST_TOKEN);
  const coordinator = new Inbox(socket);
  coordinator.send(WELCOME);
  const url = await listening;
  const locals = await Promise.all(Array.from({ length: workers }, (_, i) => localWorker(url, `local-${i}`)));
  const welcomes = await Promise.all(locals.map((l) => l.next('welcome')));
  /** The relay's next connection to the scripted coordinator (after the last one dropped), handshake done. */
  const reconnected = async () => {
    const next = await new Promise<WebSocket>((resolve) => server.once('connection', resolve));
    return { hello: await answerHandshake(next, TEST_TOKEN), coordinator: new Inbox(next) };
  };
  return { hello, coordinator, locals, welcomes, relay, reconnected };
}

describe('a relay between a coordinator and its workers', () => {
  it('joins as one member and gives each local worker the welcome at the current weights', async () => {
    const { hello, welcomes } = await relayWithWorkers(2);
    expect(hello).toMatchObject({ workerId: 'relay-test', backend: 'relay' });
    for (const [i, welcome] of welcomes.entries()) {
      expect(welcome).toMatchObject({ runId: 'scripted', weightsVersion: 5, trainable: ['a/kernel'], shardInfo: { workerIndex: i, workers: 2 } });
      expect([...decodeTensorValues(welcome.weights[0])]).toEqual([1, 2, 3, 4]);
    }
  });

  it('splits a step\'s part among its workers and sends up their count-weighted mean with the total count', async () => {
    const { coordinator, locals } = await relayWithWorkers(2);
    coordinator.send({ type: 'step', step: 3, epoch: 0, weightsVersion: 5, indices: Int32Array.from([10, 11, 12, 13, 14, 15, 16]), augmentSeed: 1, nextIndices: Int32Array.from([0, 1, 2, 3, 4, 5, 6]) });
    const steps = await Promise.all(locals.map((l) => l.next('step')));
    expect(steps.map((s) => [...s.indices])).toEqual([[10, 11, 12, 13], [14, 15, 16]]);
    expect(steps.map((s) => [...s.nextIndices!])).toEqual([[0, 1, 2, 3], [4, 5, 6]]);
    locals[0].send(gradientsOf('local-0', 3, 4, 1, 10));
    locals[1].send(gradientsOf('local-1', 3, 3, 8, 3));
    const up = await coordinator.next('gradients');
    expect(up).toMatchObject({ step: 3, weightsVersion: 5, workerId: 'relay-test', exampleCount: 7, correct: 2 });
    expect(up.loss).toBeCloseTo((4 * 1 + 3 * 8) / 7, 6);
    for (const v of decodeTensorValues(up.gradients[0])) expect(v).toBeCloseTo((4 * 1 + 3 * 8) / 7, 6);
    for (const v of decodeTensorValues(up.bnStats[0])) expect(v).toBeCloseTo((4 * 10 + 3 * 3) / 7, 6);

    coordinator.send({ type: 'weights', weightsVersion: 6, step: 4, tensors: [encodeTensor('a/kernel', [4], Float32Array.from([9, 9, 9, 9]))], full: false });
    for (const local of locals) {
      const weights = await local.next('weights');
      expect(weights.weightsVersion).toBe(6);
      expect([...decodeTensorValues(weights.tensors[0])]).toEqual([9, 9, 9, 9]);
    }
  });

  it('reports its part as failed when a local worker leaves mid-step, instead of passing off fewer examples', async () => {
    const { coordinator, locals } = await relayWithWorkers(2);
    coordinator.send({ type: 'step', step: 0, epoch: 0, weightsVersion: 5, indices: Int32Array.from([0, 1, 2, 3]), augmentSeed: 1 });
    await Promise.all(locals.map((l) => l.next('step')));
    locals[0].send(gradientsOf('local-0', 0, 2, 1, 0));
    locals[1].socket.terminate();
    const error = await coordinator.next('error');
    expect(error.code).toBe('PART_INCOMPLETE');
    expect(error.message).toMatch(/2 of the part's 4 examples/);
    expect(coordinator.messages.some((m) => m.type === 'gradients')).toBe(false);
  });

  it('reconnects when the coordinator\'s connection drops, and brings its workers up to the weights of the new welcome', async () => {
    const { coordinator, locals, reconnected } = await relayWithWorkers(2);
    const next = reconnected();
    coordinator.socket.terminate();
    const again = await next;
    expect(again.hello).toMatchObject({ workerId: 'relay-test', resume: true });
    // A resumed coordinator: the same run (its config read back, keys in another order), newer weights.
    const config = Object.fromEntries(Object.entries(WELCOME.config).reverse()) as never;
    again.coordinator.send({ ...WELCOME, config, weightsVersion: 9, weights: [encodeTensor('a/kernel', [4], Float32Array.from([7, 7, 7, 7])), WELCOME.weights[1]] });
    for (const local of locals) {
      const weights = await local.next('weights');
      expect(weights).toMatchObject({ weightsVersion: 9, full: true });
      expect([...decodeTensorValues(weights.tensors.find((t) => t.name === 'a/kernel')!)]).toEqual([7, 7, 7, 7]);
      expect(local.closed).toBeUndefined();
    }
  });

  it('leaves (75) when the coordinator it reconnects to runs another run, telling its workers why (4011)', async () => {
    const { coordinator, locals, relay, reconnected } = await relayWithWorkers(1);
    const next = reconnected();
    coordinator.socket.terminate();
    const again = await next;
    again.coordinator.send({ ...WELCOME, config: { ...WELCOME.config, batchSize: 16 } });
    expect((await locals[0].next('bye')).reason).toMatch(/another config/);
    expect((await locals[0].close()).code).toBe(CloseCode.RUN_FAILED);
    expect(await relay).toBe(75);
  });

  it('passes a failed run on as the coordinator gave it: its bye, then 4011; and exits as a worker would (75)', async () => {
    const { coordinator, locals, relay } = await relayWithWorkers(2);
    coordinator.send({ type: 'bye', reason: 'run stopped: checkpoint cannot be written' });
    coordinator.socket.close(CloseCode.RUN_FAILED, 'run failed');
    for (const local of locals) {
      expect((await local.next('bye')).reason).toMatch(/checkpoint cannot be written/);
      expect((await local.close()).code).toBe(CloseCode.RUN_FAILED);
    }
    expect(await relay).toBe(75);
  });

  it('passes an eviction on as an eviction (an error, no bye, 4009), and exits 2', async () => {
    const { coordinator, locals, relay } = await relayWithWorkers(1);
    coordinator.send({ type: 'error', code: 'EVICTED', message: 'evicted: 3 frames refused in a row' });
    coordinator.socket.close(CloseCode.EVICTED, 'evicted');
    const [local] = locals;
    expect((await local.next('error')).code).toBe('EVICTED');
    expect((await local.close()).code).toBe(CloseCode.EVICTED);
    expect(local.messages.some((m) => m.type === 'bye')).toBe(false);
    expect(await relay).toBe(2);
  });
});

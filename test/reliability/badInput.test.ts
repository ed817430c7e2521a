// Broken and hostile input against a real coordinator over a real socket on 127.0.0.1: a scripted
// "rogue" worker joins a run next to an honest worker process and answers each step with one kind
// of bad frame. Each must be refused, logged with the sender, applied not at all (the step uses
// the honest worker's examples only), and the run must go on to its last step.
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { CloseCode, elementCount, encodeMessage, encodeTensor, type GradientsMessage, type StepMessage, type WelcomeMessage } from '../../src/protocol/index.js';
import { DEFAULT_TRAIN_CONFIG } from '../../src/training/setup/config.js';
import { TEST_TOKEN, tempDir } from '../helpers/cli.js';
import { CliProcess, START_TIMEOUT_MS, coordinatorArgs, freePort, stepRecords, workerArgs } from './harness.js';
import { answerHandshake } from './scriptedCoordinator.js';
import { RogueWorker } from './rogueWorker.js';

const TOKEN = 'bad-input-test-secret';
const ENV = { DSDC_TOKEN: TOKEN };
const RUN_TIMEOUT_MS = 120_000;

/** The wire form of a gradients message with one tensor changed by `edit` (for frames the encoder refuses to build). */
function wireGradients(message: GradientsMessage, edit: (tensor: Record<string, unknown>) => void): Record<string, unknown> {
  const gradients = message.gradients.map((t) => ({ ...t }) as Record<string, unknown>);
  edit(gradients[0]);
  return { ...message, gradients };
}

function withValue(message: GradientsMessage, field: 'gradients' | 'bnStats', value: number): GradientsMessage {
  const [first, ...rest] = message[field];
  const values = new Float32Array(elementCount(first.shape));
  values[values.length - 1] = value;
  return { ...message, [field]: [encodeTensor(first.name, first.shape, values), ...rest] };
}

interface Case {
  name: string;
  /** A frame that fails to decode: refused on arrival, and that worker's part of the step ends at once. */
  junk?: (rogue: RogueWorker, step: StepMessage) => void;
  junkLog?: RegExp;
  /** The answer to the step, refused by the coordinator's checks: the step finishes without it. */
  answer: (rogue: RogueWorker, step: StepMessage) => void;
  answerLog: RegExp;
}

const CASES: Case[] = [
  {
    name: 'undecodable bytes, then a tensor with an unknown name',
    junk: (r) => r.socket.send(Buffer.from([0xc1, 0xff, 0x00, 0x13]), { binary: true }),
    junkLog: /refused a message from worker rogue .*UNDECODABLE/,
    answer: (r, s) => r.send({ ...r.gradientsFor(s), gradients: r.gradientsFor(s).gradients.map((t, i) => (i === 0 ? { ...t, name: 'no/such/kernel' } : t)) }),
    answerLog: /refused gradients from worker rogue for step \d+: UNKNOWN_TENSOR/,
  },
  {
    name: 'a text frame, then a tensor of the wrong shape',
    junk: (r) => r.socket.send('{"type":"gradients"}', { binary: false }),
    junkLog: /refused a message from worker rogue .*TEXT_FRAME/,
    answer: (r, s) => {
      const g = r.gradientsFor(s);
      const first = g.gradients[0];
      const shape = [1, ...first.shape];
      r.send({ ...g, gradients: [encodeTensor(first.name, shape, new Float32Array(elementCount(shape))), ...g.gradients.slice(1)] });
    },
    answerLog: /refused gradients from worker rogue for step \d+: SHAPE_MISMATCH/,
  },
  {
    name: 'a message of unknown type, then NaN in a gradient',
    junk: (r) => r.sendRaw({ type: 'gimme-weights', please: true }),
    junkLog: /refused a message from worker rogue .*UNKNOWN_TYPE/,
    answer: (r, s) => r.send(withValue(r.gradientsFor(s), 'gradients', Number.NaN)),
    answerLog: /refused gradients from worker rogue for step \d+: NaN or Infinity in /,
  },
  {
    name: 'a message with a missing field, then Infinity in a batch-norm statistic',
    junk: (r, s) => {
      const { loss: _loss, ...withoutLoss } = r.gradientsFor(s);
      r.sendRaw(withoutLoss);
    },
    junkLog: /refused a message from worker rogue .*MISSING_FIELD.*loss/,
    answer: (r, s) => r.send(withValue(r.gradientsFor(s), 'bnStats', Number.POSITIVE_INFINITY)),
    answerLog: /refused gradients from worker rogue for step \d+: NaN or Infinity in /,
  },
  {
    name: 'a tensor of the wrong dtype, then gradients computed on an old weights version',
    junk: (r, s) => r.sendRaw(wireGradients(r.gradientsFor(s), (t) => (t.dtype = 'float64'))),
    junkLog: /refused a message from worker rogue .*BAD_TENSOR.*dtype/,
    answer: (r, s) => r.send({ ...r.gradientsFor(s), weightsVersion: s.weightsVersion - 1 }),
    answerLog: /refused gradients from worker rogue for step \d+: computed on weights version \d+, current is \d+/,
  },
  {
    name: 'a tensor whose bytes do not match its shape, then a wrong example count',
    junk: (r, s) => r.sendRaw(wireGradients(r.gradientsFor(s), (t) => (t.data = (t.data as Uint8Array).subarray(0, (t.data as Uint8Array).byteLength - 4)))),
    junkLog: /refused a message from worker rogue .*BAD_TENSOR/,
    answer: (r, s) => r.send({ ...r.gradientsFor(s), exampleCount: s.indices.length + 100 }),
    answerLog: /refused gradients from worker rogue for step \d+: \d+ examples, \d+ were sent/,
  },
];

describe('bad input from a joined worker, against a real coordinator', () => {
  const processes: CliProcess[] = [];
  const rogues: RogueWorker[] = [];
  afterEach(() => {
    processes.splice(0).forEach((p) => p.stop());
    rogues.splice(0).forEach((r) => r.close());
  });

  it('refuses each bad frame, logs it with the sender, applies nothing of it, and finishes the run', { timeout: 240_000 }, async () => {
    const port = await freePort();
    const url = `ws://127.0.0.1:${port}`;
    const runDir = tempDir('bad-input');
    const steps = 2 * CASES.length + 4;
    // Each refusal is the subject here; eviction after refusals in a row is security.test.ts'.
    const coordinator = new CliProcess('coordinator', coordinatorArgs(port, runDir, 2, ['--max-steps', String(steps), '--no-eval', '--step-timeout', '60', '--max-refused-frames', '1000']), ENV);
    processes.push(coordinator);
    await coordinator.waitForLine(/listening on ws:/, START_TIMEOUT_MS);
    processes.push(new CliProcess('honest worker', workerArgs(port, 'honest'), ENV));
    const rogue = await RogueWorker.connect(url, { token: TOKEN });
    rogues.push(rogue);
    await rogue.next((m): m is WelcomeMessage => m.type === 'welcome', START_TIMEOUT_MS, 'welcome');

    // Before the handshake: the wrong protocol version, and a second connection claiming a live id.
    const oldPeer = await RogueWorker.connect(url, { workerId: 'old-peer', token: TOKEN, protocolVersion: 99 });
    rogues.push(oldPeer);
    expect((await oldPeer.closedWithin(10_000)).code).toBe(CloseCode.VERSION_MISMATCH);
    await coordinator.waitForLine(/refused a message from 127\.0\.0\.1:\d+: VERSION_MISMATCH/, 10_000);
    await coordinator.waitForLine(/worker honest joined/, START_TIMEOUT_MS);
    const impostor = await RogueWorker.connect(url, { workerId: 'honest', token: TOKEN });
    rogues.push(impostor);
    expect((await impostor.closedWithin(10_000)).code).toBe(CloseCode.DUPLICATE_WORKER_ID);
    await coordinator.waitForLine(/refused a second connection claiming worker id honest from 127\.0\.0\.1:\d+; the live one .* stays/, 10_000);

    const refusedSteps: number[] = [];
    const dropped = (step: StepMessage) => coordinator.waitForLine(new RegExp(`step ${step.step}: dropped worker rogue's ${step.indices.length} examples`), 10_000);
    for (const c of CASES) {
      // The junk alone ends the rogue's part of its step: the step does not wait for an answer.
      const junkStep = await rogue.nextStep();
      c.junk?.(rogue, junkStep);
      if (c.junkLog) await coordinator.waitForLine(c.junkLog, 10_000);
      await dropped(junkStep);
      refusedSteps.push(junkStep.step);
      const step = await rogue.nextStep();
      c.answer(rogue, step);
      await coordinator.waitForLine(c.answerLog, 10_000);
      await dropped(step);
      refusedSteps.push(step.step);
    }

    // A good answer is applied once; the same answer again (a step already applied) is refused.
    const step = await rogue.nextStep();
    const good = rogue.gradientsFor(step);
    rogue.send(good);
    const replayed = await rogue.nextStep();
    rogue.send(good);
    await coordinator.waitForLine(new RegExp(`refused gradients from worker rogue for step ${step.step}: (the step in flight is ${replayed.step}|no step is in flight)`), 10_000);
    rogue.send(rogue.gradientsFor(replayed));

    // A frame larger than the model-derived limit closes the connection (ws maxPayload) before it is read.
    const params = [...rogue.welcome!.weights].reduce((n, t) => n + elementCount(t.shape), 0);
    rogue.socket.send(new Uint8Array(8 * params + 1024 * 1024), { binary: true });
    expect((await rogue.closedWithin(10_000)).code).toBe(CloseCode.MESSAGE_TOO_BIG);
    await coordinator.waitForLine(/socket error from rogue: Max payload size exceeded/, 10_000);
    await coordinator.waitForLine(/worker rogue disconnected/, 10_000);

    expect(await coordinator.exit(RUN_TIMEOUT_MS)).toBe(0);
    expect(coordinator.summary().steps).toBe(steps);
    const records = stepRecords(runDir);
    expect(records.map((r) => r.step)).toEqual(Array.from({ length: steps }, (_, i) => i + 1));
    expect(records.every((r) => Number.isFinite(r.loss))).toBe(true);
    const examples = new Map(records.map((r) => [r.step, (r as unknown as { examples: number }).examples]));
    // Steps are numbered from 0 on the wire and from 1 in metrics.jsonl.
    for (const s of refusedSteps) expect(examples.get(s + 1), `step ${s}`).toBe(16);
    expect(examples.get(step.step + 1)).toBe(32);
    expect(examples.get(steps)).toBe(32);
    expect(coordinator.linesMatching(/refused .*worker honest/)).toEqual([]);
  });

  it('--on-nan stop: NaN in a gradient stops the run with a clear error naming the worker', { timeout: 120_000 }, async () => {
    const port = await freePort();
    const runDir = tempDir('nan-stop');
    const coordinator = new CliProcess('coordinator', coordinatorArgs(port, runDir, 2, ['--max-steps', '10', '--no-eval', '--on-nan', 'stop']), ENV);
    processes.push(coordinator);
    await coordinator.waitForLine(/listening on ws:/, START_TIMEOUT_MS);
    processes.push(new CliProcess('honest worker', workerArgs(port, 'honest'), ENV));
    const rogue = await RogueWorker.connect(`ws://127.0.0.1:${port}`, { token: TOKEN });
    rogues.push(rogue);
    const step = await rogue.nextStep(START_TIMEOUT_MS);
    rogue.send(withValue(rogue.gradientsFor(step), 'gradients', Number.NaN));
    expect(await coordinator.exit(60_000)).not.toBe(0);
    expect(coordinator.stderr).toMatch(new RegExp(`worker rogue sent NaN or Infinity in \\S+ at step ${step.step}; stopping \\(--on-nan stop\\)`));
    expect(stepRecords(runDir).length).toBe(step.step);
  });
});

describe('a worker receiving bad weights from a (scripted) coordinator', () => {
  it('refuses NaN, wrong shapes, unknown tensors and undecodable frames, keeps its weights, and computes on them', { timeout: 180_000 }, async () => {
    // A welcome the real worker accepts: take it from a real coordinator.
    const port = await freePort();
    const coordinator = new CliProcess('coordinator', coordinatorArgs(port, tempDir('welcome-source'), 1, ['--max-steps', '1', '--no-eval']), ENV);
    const source = await (async () => {
      try {
        await coordinator.waitForLine(/listening on ws:/, START_TIMEOUT_MS);
        const r = await RogueWorker.connect(`ws://127.0.0.1:${port}`, { token: TOKEN });
        return { rogue: r, welcome: await r.next((m): m is WelcomeMessage => m.type === 'welcome', START_TIMEOUT_MS, 'welcome') };
      } finally {
        coordinator.stop();
      }
    })();
    source.rogue.close();
    const welcome = source.welcome;

    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => server.once('listening', resolve));
    const fakePort = (server.address() as { port: number }).port;
    const worker = new CliProcess('worker', workerArgs(fakePort, 'target'));
    try {
      const [socket] = await new Promise<[import('ws').WebSocket]>((resolve) => server.once('connection', (s) => resolve([s])));
      const inbox: GradientsMessage[] = [];
      const errors: string[] = [];
      const { decodeFrame } = await import('../../src/protocol/index.js');
      let notify = () => {};
      socket.on('message', (data, isBinary) => {
        const decoded = decodeFrame(data as Buffer, isBinary);
        if (!decoded.ok) return;
        if (decoded.message.type === 'gradients') inbox.push(decoded.message);
        if (decoded.message.type === 'error') errors.push(`${decoded.message.code}: ${decoded.message.message}`);
        notify();
      });
      const until = (what: string, ready: () => boolean) =>
        new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no ${what}; errors so far: ${errors.join(' | ')}`)), 60_000);
          notify = () => {
            if (ready()) {
              clearTimeout(timer);
              resolve();
            }
          };
          notify();
        });
      await answerHandshake(socket, TEST_TOKEN);
      // A hostile coordinator names a data folder of its choosing: the worker keeps to its own.
      socket.send(encodeMessage({ ...welcome, config: { ...welcome.config, dataDir: '/nonexistent/folder-named-by-the-wire' } }), { binary: true });
      await worker.waitForLine(/joined run .* at weights version (\d+)/, START_TIMEOUT_MS);
      expect(worker.stderr).not.toMatch(/folder-named-by-the-wire/);

      const first = welcome.weights[0];
      const version = welcome.weightsVersion + 1;
      const nan = new Float32Array(elementCount(first.shape)).fill(Number.NaN);
      const bad = [
        { tensors: [encodeTensor(first.name, first.shape, nan)], expect: /WEIGHTS_REFUSED: NaN or Infinity/ },
        { tensors: [encodeTensor(first.name, [1, ...first.shape], new Float32Array(elementCount(first.shape)))], expect: /WEIGHTS_REFUSED: SHAPE_MISMATCH/ },
        { tensors: [encodeTensor('no/such/variable', [2], new Float32Array(2))], expect: /WEIGHTS_REFUSED: UNKNOWN_TENSOR/ },
      ];
      for (const [i, b] of bad.entries()) {
        socket.send(encodeMessage({ type: 'weights', weightsVersion: version, step: version, tensors: b.tensors, full: false }), { binary: true });
        await until(`error ${i + 1}`, () => errors.length > i);
        expect(errors[i]).toMatch(b.expect);
      }
      socket.send(Buffer.from([0xc1, 0xc1]), { binary: true });
      await worker.waitForLine(/refused a message from the coordinator: UNDECODABLE/, 10_000);

      // A step asking for more examples than the run's batch, or for examples the worker does not have: refused before reading any.
      const batchSize = welcome.config.batchSize;
      const stepOf = (indices: Int32Array) => encodeMessage({ type: 'step', step: 0, epoch: 0, weightsVersion: welcome.weightsVersion, indices, augmentSeed: 1 });
      socket.send(stepOf(Int32Array.from({ length: batchSize + 1 }, (_, i) => i)), { binary: true });
      await until('an error for too many indices', () => errors.length > bad.length);
      expect(errors[bad.length]).toMatch(new RegExp(`WORKER_FAILED: step 0: indices holds ${batchSize + 1} examples, more than the run's batch size ${batchSize}`));
      socket.send(stepOf(Int32Array.of(0, 1_000_000)), { binary: true });
      await until('an error for an index outside the training set', () => errors.length > bad.length + 1);
      expect(errors[bad.length + 1]).toMatch(/WORKER_FAILED: step 0: indices\[1\] is 1000000, but this worker's training set has \d+ examples/);

      // The weights are the welcome's still: a step at the welcome's version is computed, with finite numbers.
      const indices = Int32Array.from({ length: 8 }, (_, i) => i);
      socket.send(encodeMessage({ type: 'step', step: 0, epoch: 0, weightsVersion: welcome.weightsVersion, indices, augmentSeed: 1 }), { binary: true });
      await until('gradients', () => inbox.length > 0);
      expect(inbox[0].weightsVersion).toBe(welcome.weightsVersion);
      expect(inbox[0].exampleCount).toBe(8);
      expect(Number.isFinite(inbox[0].loss)).toBe(true);
      socket.send(encodeMessage({ type: 'bye', reason: 'test over' }), { binary: true });
      expect(await worker.exit(30_000)).toBe(0);
    } finally {
      worker.stop();
      server.close();
    }
  });
});

describe('a worker receiving a welcome whose run config is not one', () => {
  it('refuses it on receipt, naming the field, and joins nothing', { timeout: 120_000 }, async () => {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => server.once('listening', resolve));
    const worker = new CliProcess('worker', workerArgs((server.address() as { port: number }).port, 'target'));
    try {
      const socket = await new Promise<import('ws').WebSocket>((resolve) => server.once('connection', resolve));
      await answerHandshake(socket, TEST_TOKEN);
      const welcome: WelcomeMessage = {
        type: 'welcome',
        runId: 'bad-config',
        config: { ...DEFAULT_TRAIN_CONFIG, learningRate: 50 },
        modelSpec: DEFAULT_TRAIN_CONFIG.model,
        weightsVersion: 0,
        weights: [],
        trainable: [],
        shardInfo: { workerIndex: 0, workers: 1 },
      };
      socket.send(encodeMessage(welcome), { binary: true });
      await worker.waitForLine(/refused a message from the coordinator: BAD_FIELD: 'welcome' message, field 'config\.learningRate': expected a positive number at most 1, got number 50/, START_TIMEOUT_MS);
      expect(worker.stderr).not.toMatch(/joined run/);
    } finally {
      worker.stop();
      server.close();
    }
  });
});

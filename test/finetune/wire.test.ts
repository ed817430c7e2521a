// What crosses the wire in a fine-tune run, seen by a probe worker that speaks the protocol over a
// real socket next to a real worker process: the welcome carries every weight (on joining and on
// rejoining), and names the trainable variables and statistics; weight broadcasts carry only
// those; a gradient for a frozen variable is refused with FROZEN_TENSOR.
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  makeNonce,
  workerProof,
  PROTOCOL_VERSION,
  decodeFrame,
  decodeMessage,
  encodeMessage,
  encodeTensor,
  findFrozenTensor,
  frozenVariables,
  type CoordinatorMessage,
  type FrameData,
  type WelcomeMessage,
  type WorkerMessage,
} from '../../src/protocol/index.js';
import { DEFAULT_TRAIN_CONFIG } from '../../src/training/setup/config.js';
import { runCli, startCli, tempDir, TEST_TOKEN } from '../helpers/cli.js';

const BASE = ['--backend', 'wasm', '--train-limit', '1024', '--test-limit', '100', '--batch-size', '64', '--no-eval', '--seed', '5'];
const EVENT_TIMEOUT_MS = 60_000;
const ALL_VARIABLES = 31;
const HEAD = ['head/kernel', 'head/bias'];

/** Resolves with the first match of `pattern` in the process's stderr. */
function waitForStderr(child: ChildProcess, pattern: RegExp): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`no ${pattern} in stderr within ${EVENT_TIMEOUT_MS} ms:\n${text.slice(-2000)}`)), EVENT_TIMEOUT_MS);
    const onData = (d: Buffer) => {
      text += d;
      const match = text.match(pattern);
      if (!match) return;
      clearTimeout(timer);
      child.stderr!.off('data', onData);
      resolve(match);
    };
    child.stderr!.on('data', onData);
  });
}

/** A hand-driven worker: sends what the test says, hands over messages by type, in order. */
class Probe {
  private readonly inbox: CoordinatorMessage[] = [];
  private waiting?: () => void;
  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data: FrameData, isBinary: boolean) => {
      const decoded = decodeFrame(data, isBinary, { maxPayloadBytes: 64 * 1024 * 1024 });
      if (decoded.ok) this.inbox.push(decoded.message as CoordinatorMessage);
      this.waiting?.();
    });
  }

  static async join(url: string, resume: boolean): Promise<Probe> {
    const socket = new WebSocket(url);
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    const probe = new Probe(socket);
    const nonce = makeNonce();
    probe.send({ type: 'hello', workerId: 'probe', protocolVersion: PROTOCOL_VERSION, backend: 'probe', device: 'test', pid: process.pid, resume, nonce });
    const challenge = await probe.next('challenge');
    probe.send({ type: 'auth', proof: workerProof(TEST_TOKEN, challenge.nonce, nonce) });
    return probe;
  }

  send(message: WorkerMessage): void {
    this.socket.send(encodeMessage(message), { binary: true });
  }

  /** The next message of this type; earlier ones of other types are dropped. */
  async next<T extends CoordinatorMessage['type']>(type: T): Promise<Extract<CoordinatorMessage, { type: T }>> {
    const deadline = Date.now() + EVENT_TIMEOUT_MS;
    for (;;) {
      const message = this.inbox.shift();
      if (message?.type === type) return message as Extract<CoordinatorMessage, { type: T }>;
      if (message) continue;
      if (Date.now() > deadline) throw new Error(`probe: no '${type}' message within ${EVENT_TIMEOUT_MS} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        this.waiting = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  leave(): Promise<void> {
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.terminate();
    });
  }
}

describe('which variables a message carries', () => {
  const tensor = (name: string) => encodeTensor(name, [2], new Float32Array(2));
  const welcome = (statistics?: string[]): WelcomeMessage => ({
    type: 'welcome',
    runId: 'r',
    config: DEFAULT_TRAIN_CONFIG,
    modelSpec: DEFAULT_TRAIN_CONFIG.model,
    weightsVersion: 0,
    weights: ['a/kernel', 'a_bn/moving_mean', 'head/kernel'].map(tensor),
    trainable: ['head/kernel'],
    ...(statistics ? { statistics } : {}),
    shardInfo: { workerIndex: 0, workers: 1 },
  });

  it('welcome.statistics round-trips, and is absent when not given', () => {
    const decoded = decodeMessage(encodeMessage(welcome(['a_bn/moving_mean'])));
    expect(decoded.ok && decoded.message.type === 'welcome' && decoded.message.statistics).toEqual(['a_bn/moving_mean']);
    const old = decodeMessage(encodeMessage(welcome()));
    expect(old.ok && old.message.type === 'welcome' && 'statistics' in old.message).toBe(false);
  });

  it('welcome.statistics must name weights that are not trainable', () => {
    const unknown = decodeMessage(encodeMessage(welcome(['b_bn/moving_mean'])));
    expect(!unknown.ok && unknown.error).toMatchObject({ code: 'UNKNOWN_TENSOR', message: expect.stringMatching(/field 'statistics': 'b_bn\/moving_mean' is not one of the 3 weights/) });
    const overlap = decodeMessage(encodeMessage(welcome(['head/kernel'])));
    expect(!overlap.ok && overlap.error).toMatchObject({ code: 'BAD_FIELD', message: expect.stringMatching(/field 'statistics': expected names not in 'trainable'/) });
  });

  it('everything neither trainable nor a statistic is frozen, and a tensor of it is FROZEN_TENSOR', () => {
    const frozen = frozenVariables(['a/kernel', 'a_bn/moving_mean', 'head/kernel'], { trainable: ['head/kernel'], statistics: [] });
    expect([...frozen]).toEqual(['a/kernel', 'a_bn/moving_mean']);
    expect(findFrozenTensor([tensor('head/kernel')], frozen, 'gradients')).toBeNull();
    expect(findFrozenTensor([tensor('head/kernel'), tensor('a_bn/moving_mean')], frozen, 'bnStats')).toMatchObject({ code: 'FROZEN_TENSOR', message: expect.stringMatching(/^bnStats carries 'a_bn\/moving_mean'/) });
  });
});

describe('fine-tune on the wire (head only: all-but-last:1)', () => {
  let coordinator: ChildProcess;
  let worker: ChildProcess;
  let url: string;

  beforeAll(async () => {
    const pretrained = await runCli(['worker', '--standalone', ...BASE, '--max-steps', '2', '--run-dir', tempDir('wire-pre'), '--json', '--log-level', 'warn'], { timeoutMs: 120_000 });
    expect(pretrained.code, pretrained.stderr.slice(-2000)).toBe(0);
    coordinator = startCli(['finetune', '--from', pretrained.json!.checkpoint as string, '--freeze', 'all-but-last:1', '--no-launch-workers', '--workers', '2', '--port', '0', ...BASE, '--max-steps', '5000', '--run-dir', tempDir('wire'), '--log-level', 'info']);
    url = (await waitForStderr(coordinator, /listening on (ws:\/\/\S+)/))[1];
    worker = startCli(['worker', '--coordinator', url, '--worker-id', 'real', '--backend', 'wasm', '--log-level', 'warn']);
    // Two slots: the real worker's and the probe's (a third worker would wait as a standby).
    await waitForStderr(coordinator, /worker real joined/);
    // Keep both pipes flowing so a chatty process never blocks on a full one.
    coordinator.stderr!.on('data', () => undefined);
    worker.stderr!.on('data', () => undefined);
  }, 180_000);

  afterAll(async () => {
    for (const child of [coordinator, worker]) {
      if (!child || child.exitCode !== null) continue;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  }, 60_000);

  it('joins with every weight, trains only the head, refuses a frozen gradient, and rejoins with every weight again', async () => {
    const probe = await Probe.join(url, false);
    const welcome = await probe.next('welcome');
    expect(welcome.weights.length).toBe(ALL_VARIABLES);
    expect(welcome.trainable).toEqual(HEAD);
    expect(welcome.statistics).toEqual([]);

    const step = await probe.next('step');
    probe.send({
      type: 'gradients',
      step: step.step,
      weightsVersion: step.weightsVersion,
      workerId: 'probe',
      exampleCount: step.indices.length,
      loss: 1,
      correct: 0,
      gradients: [encodeTensor('stem_conv/kernel', [3, 3, 1, 32], new Float32Array(288))],
      bnStats: [],
      timings: { computeMs: 1, encodeMs: 0 },
    });
    const refusal = await probe.next('error');
    expect(refusal.code).toBe('GRADIENTS_REFUSED');
    expect(refusal.message).toMatch(/FROZEN_TENSOR: gradients carries 'stem_conv\/kernel', a frozen variable of this run/);

    // The step goes on with the real worker's part; its broadcast carries the head alone.
    const broadcast = await probe.next('weights');
    expect(broadcast.full).toBe(false);
    expect(broadcast.tensors.map((t) => t.name).sort()).toEqual([...HEAD].sort());
    await probe.leave();

    const again = await Probe.join(url, true);
    const rewelcome = await again.next('welcome');
    expect(rewelcome.weights.length).toBe(ALL_VARIABLES);
    expect(rewelcome.weightsVersion).toBeGreaterThanOrEqual(broadcast.weightsVersion);
    expect(rewelcome.trainable).toEqual(HEAD);
    await again.leave();
  }, 180_000);
});

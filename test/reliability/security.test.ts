// Who may join: every run has a token (DSDC_TOKEN, --token-file, or one the coordinator makes in
// its run directory), strong off loopback; both sides prove it by challenge-response without
// sending it; and wss:// with a certificate given on the command line. Real processes on 127.0.0.1.
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { CloseCode, decodeFrame, encodeMessage, makeNonce, type Message } from '../../src/protocol/index.js';
import { WORKER_REFUSED_EXIT_CODE } from '../../src/worker/exitCodes.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { CliProcess, START_TIMEOUT_MS, TINY_RUN, coordinatorArgs, freePort, workerArgs } from './harness.js';
import { RogueWorker } from './rogueWorker.js';

const RUN_TIMEOUT_MS = 120_000;

function openssl(args: string[]): boolean {
  try {
    execFileSync('openssl', args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A self-signed certificate for 127.0.0.1 and localhost, or undefined without openssl. */
function selfSignedCertificate(dir: string): { cert: string; key: string } | undefined {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  const made = openssl([
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert,
    '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ]);
  return made ? { cert, key } : undefined;
}

describe('security', () => {
  const processes: CliProcess[] = [];
  const start = (name: string, args: string[], env: NodeJS.ProcessEnv = {}) => {
    const p = new CliProcess(name, args, env);
    processes.push(p);
    return p;
  };
  afterEach(() => processes.splice(0).forEach((p) => p.stop()));

  it('refuses a token under 128 bits on a non-loopback address, and says how to make one', async () => {
    const result = await runCli(['coordinator', '--host', '0.0.0.0', '--port', '0', ...TINY_RUN], { env: { DSDC_TOKEN: 'secret' }, timeoutMs: 60_000 });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/\$DSDC_TOKEN holds about 36 bits, and on 0\.0\.0\.0 a token needs at least 128.*openssl rand -hex 24/);
    expect(result.stderr).not.toMatch(/listening on/);
  });

  it('without a token the coordinator makes one in its run directory, readable by the user only, and a local worker joins with it', { timeout: 180_000 }, async () => {
    const runDir = tempDir('own-token');
    const port = await freePort();
    const coordinator = start('coordinator', coordinatorArgs(port, runDir, 1, ['--max-steps', '2', '--no-eval']), { DSDC_TOKEN: '' });
    const tokenFile = join(runDir, 'token');
    const [, announced] = await coordinator.waitForLine(/no token given .*using the run's own, in (\S+) \(mode 0600\); workers on this machine: --token-file \S+/, START_TIMEOUT_MS);
    expect(announced).toBe(tokenFile);
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(tokenFile, 'utf8').trim()).toMatch(/^[0-9a-f]{48}$/);
    const tokenless = start('worker (no token)', workerArgs(port, 'tokenless'), { DSDC_TOKEN: '' });
    expect(await tokenless.exit(START_TIMEOUT_MS)).not.toBe(0);
    expect(tokenless.stderr).toMatch(/no token: pass --token-file/);
    const worker = start('worker', [...workerArgs(port, 'local'), '--token-file', tokenFile], { DSDC_TOKEN: '' });
    expect(await coordinator.exit(RUN_TIMEOUT_MS)).toBe(0);
    expect(await worker.exit(30_000)).toBe(0);
  });

  it('a wrong token: the worker finds the coordinator cannot prove it, says so and stops; a rogue with a wrong proof is closed with 4001; the right token joins', { timeout: 180_000 }, async () => {
    const dir = tempDir('token');
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'the-right-secret\n');
    const port = await freePort();
    const coordinator = start('coordinator', [...coordinatorArgs(port, join(dir, 'run'), 1, ['--max-steps', '3', '--no-eval']), '--token-file', tokenFile], { DSDC_TOKEN: '' });
    await coordinator.waitForLine(/listening on ws:/, START_TIMEOUT_MS);
    const url = `ws://127.0.0.1:${port}`;

    const rogue = await RogueWorker.connect(url, { workerId: 'guess', token: 'wrong' }, { localAddress: '127.0.0.2' });
    expect(rogue.coordinatorProven).toBe(false);
    expect((await rogue.closedWithin(10_000)).code).toBe(CloseCode.BAD_TOKEN);
    await coordinator.waitForLine(/refused guess from 127\.0\.0\.2:\d+: wrong proof of the token; closed with code 4001/, 10_000);
    expect(rogue.received.filter((m) => m.type === 'welcome')).toEqual([]);

    const intruder = start('worker (wrong token)', workerArgs(port, 'intruder'), { DSDC_TOKEN: 'not-the-secret' });
    expect(await intruder.exit(START_TIMEOUT_MS)).toBe(WORKER_REFUSED_EXIT_CODE);
    expect(intruder.stderr).toMatch(/the coordinator could not prove it knows the token: it is an impostor, or runs with another token.*not retrying/);

    const worker = start('worker', [...workerArgs(port, 'friend'), '--token-file', tokenFile], { DSDC_TOKEN: '' });
    expect(await coordinator.exit(RUN_TIMEOUT_MS)).toBe(0);
    expect(coordinator.summary().steps).toBe(3);
    expect(await worker.exit(30_000)).toBe(0);
  });

  it('an impostor coordinator learns no token: the worker sends only its hello, refuses the fake challenge, says so and stops', { timeout: 120_000 }, async () => {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(server, 'listening');
    const frames: Message[] = [];
    let raw = Buffer.alloc(0);
    server.on('connection', (socket) => {
      socket.on('message', (data: Buffer) => {
        raw = Buffer.concat([raw, data]);
        const decoded = decodeFrame(data, true);
        if (!decoded.ok) return;
        frames.push(decoded.message);
        // It cannot make a proof without the token: it sends a guess, then a welcome anyway.
        if (decoded.message.type === 'hello') socket.send(encodeMessage({ type: 'challenge', nonce: makeNonce(), proof: makeNonce() }));
      });
    });
    try {
      const port = (server.address() as AddressInfo).port;
      const worker = start('worker (to an impostor)', workerArgs(port, 'victim'), { DSDC_TOKEN: 'the-real-token-0123456789' });
      expect(await worker.exit(START_TIMEOUT_MS)).toBe(WORKER_REFUSED_EXIT_CODE);
      expect(worker.stderr).toMatch(/ws:\/\/127\.0\.0\.1:\d+: the coordinator could not prove it knows the token.*sent it nothing but a nonce, and not retrying/);
      expect(frames.map((m) => m.type)).toEqual(['hello']);
      expect(raw.includes(Buffer.from('the-real-token-0123456789'))).toBe(false);
    } finally {
      server.close();
    }
  });

  it('a coordinator that skips the challenge (an old or fake one sending a welcome at once) is refused the same way', { timeout: 120_000 }, async () => {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(server, 'listening');
    server.on('connection', (socket) => socket.on('message', () => socket.send(encodeMessage({ type: 'bye', reason: 'no challenge here' }))));
    try {
      const worker = start('worker (no challenge)', workerArgs((server.address() as AddressInfo).port, 'victim'));
      expect(await worker.exit(START_TIMEOUT_MS)).toBe(WORKER_REFUSED_EXIT_CODE);
      expect(worker.stderr).toMatch(/the coordinator sent 'bye' instead of proving it knows the token/);
    } finally {
      server.close();
    }
  });

  it('TLS: train --tls-cert/--tls-key serves wss:// and its workers trust the certificate; a worker without --tls-ca is refused by its own TLS check', { timeout: 180_000 }, async (context) => {
    const dir = tempDir('tls');
    const pair = selfSignedCertificate(dir);
    if (!pair) return context.skip();

    const port = await freePort();
    const coordinator = start('coordinator (tls)', [...coordinatorArgs(port, join(dir, 'run'), 1, ['--max-steps', '3', '--no-eval']), '--tls-cert', pair.cert, '--tls-key', pair.key], { DSDC_TOKEN: 'tls-secret' });
    await coordinator.waitForLine(/listening on wss:\/\/127\.0\.0\.1:\d+ \(dashboard: https:/, START_TIMEOUT_MS);
    const wssArgs = (id: string) => workerArgs(port, id).map((a) => a.replace(/^ws:/, 'wss:'));
    const untrusting = start('worker (no --tls-ca)', wssArgs('untrusting'), { DSDC_TOKEN: 'tls-secret' });
    await untrusting.waitForLine(/self[- ]signed certificate/i, START_TIMEOUT_MS);
    untrusting.stop();
    const plain = await RogueWorker.connect(`wss://127.0.0.1:${port}`, { token: 'tls-secret', workerId: 'tls-client' }, { ca: (await import('node:fs')).readFileSync(pair.cert) });
    await plain.next((m): m is Extract<typeof m, { type: 'welcome' }> => m.type === 'welcome', START_TIMEOUT_MS, 'welcome over wss');
    plain.close();
    const trusting = start('worker (--tls-ca)', [...wssArgs('trusting'), '--tls-ca', pair.cert], { DSDC_TOKEN: 'tls-secret' });
    expect(await coordinator.exit(RUN_TIMEOUT_MS)).toBe(0);
    expect(coordinator.summary().steps).toBe(3);
    expect(await trusting.exit(30_000)).toBe(0);

    const train = await runCli(['train', ...TINY_RUN, '--workers', '2', '--max-steps', '3', '--no-eval', '--run-dir', join(dir, 'train'), '--tls-cert', pair.cert, '--tls-key', pair.key, '--json', '--log-level', 'debug'], { timeoutMs: RUN_TIMEOUT_MS });
    expect(train.code, train.stderr).toBe(0);
    expect(train.stderr).toMatch(/listening on wss:/);
    expect(train.json!.steps).toBe(3);
  });
});

// Who may join: the shared token (DSDC_TOKEN or --token-file), loopback-only without one, and
// wss:// with a certificate given on the command line. Real processes on 127.0.0.1.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CloseCode } from '../../src/protocol/index.js';
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

  it('refuses to listen on a non-loopback address without a token, and says how to fix it', async () => {
    const result = await runCli(['coordinator', '--host', '0.0.0.0', '--port', '0', ...TINY_RUN], { env: { DSDC_TOKEN: '' }, timeoutMs: 60_000 });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/refusing to listen on 0\.0\.0\.0 without a token.*DSDC_TOKEN or --token-file.*--host 127\.0\.0\.1/);
    expect(result.stderr).not.toMatch(/listening on/);
  });

  it('without a token it listens on loopback only and says so', async () => {
    const port = await freePort();
    const coordinator = start('coordinator', coordinatorArgs(port, tempDir('no-token'), 1, ['--max-steps', '1']), { DSDC_TOKEN: '' });
    await coordinator.waitForLine(/no token set .*listening on loopback only/, START_TIMEOUT_MS);
    await coordinator.waitForLine(/listening on ws:\/\/127\.0\.0\.1:/, START_TIMEOUT_MS);
  });

  it('a wrong or missing token: closed with code 4001 and logged; the worker gives up; a worker with --token-file joins and the run finishes', { timeout: 180_000 }, async () => {
    const dir = tempDir('token');
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'the-right-secret\n');
    const port = await freePort();
    const coordinator = start('coordinator', [...coordinatorArgs(port, join(dir, 'run'), 1, ['--max-steps', '3', '--no-eval']), '--token-file', tokenFile], { DSDC_TOKEN: '' });
    await coordinator.waitForLine(/listening on ws:/, START_TIMEOUT_MS);
    const url = `ws://127.0.0.1:${port}`;

    for (const token of ['wrong', undefined]) {
      const rogue = await RogueWorker.connect(url, { workerId: `guess-${token ?? 'none'}`, token });
      expect((await rogue.closedWithin(10_000)).code).toBe(CloseCode.BAD_TOKEN);
      await coordinator.waitForLine(new RegExp(`refused guess-${token ?? 'none'} from 127\\.0\\.0\\.1:\\d+: wrong or missing token; closed with code 4001`), 10_000);
      expect(rogue.received.filter((m) => m.type === 'welcome')).toEqual([]);
    }
    const intruder = start('worker (wrong token)', workerArgs(port, 'intruder'), { DSDC_TOKEN: 'not-the-secret' });
    expect(await intruder.exit(START_TIMEOUT_MS)).toBe(2);
    expect(intruder.stderr).toMatch(/coordinator refused this worker \(code 4001: bad token\); not retrying/);

    const worker = start('worker', [...workerArgs(port, 'friend'), '--token-file', tokenFile], { DSDC_TOKEN: '' });
    expect(await coordinator.exit(RUN_TIMEOUT_MS)).toBe(0);
    expect(coordinator.summary().steps).toBe(3);
    expect(await worker.exit(30_000)).toBe(0);
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

    const train = await runCli(['train', ...TINY_RUN, '--workers', '2', '--max-steps', '3', '--no-eval', '--run-dir', join(dir, 'train'), '--tls-cert', pair.cert, '--tls-key', pair.key, '--json', '--log-level', 'info'], { timeoutMs: RUN_TIMEOUT_MS });
    expect(train.code, train.stderr).toBe(0);
    expect(train.stderr).toMatch(/listening on wss:/);
    expect(train.json!.steps).toBe(3);
  });
});

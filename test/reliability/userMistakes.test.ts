// The mistakes users make, each with real processes: a port already in use, a worker pointed at
// the wrong place (nothing there, an http:// URL, ws:// against a TLS coordinator, a self-signed
// certificate it was not told to trust), a run directory reused without --resume, --resume
// without --run-dir, and --resume with flags that differ from the checkpoint's run.
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WORKER_NO_COORDINATOR_EXIT_CODE } from '../../src/worker/exitCodes.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { freePort } from '../helpers/net.js';
import { selfSignedCertificate } from '../helpers/tls.js';
import { CliProcess, coordinatorArgs, START_TIMEOUT_MS, TINY_RUN, workerArgs } from './harness.js';

const RUN_TIMEOUT_MS = 120_000;
const CONNECT_TIMEOUT_S = 3;

describe('a port already in use', () => {
  let taken: Server;
  let port: number;
  beforeAll(async () => {
    taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    port = (taken.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => taken.close(() => resolve())));

  for (const command of ['coordinator', 'train']) {
    it(`${command}: one line naming the port, exit 1, no stack trace`, { timeout: RUN_TIMEOUT_MS }, async () => {
      const result = await runCli([command, ...TINY_RUN, '--workers', '1', '--port', String(port), '--run-dir', join(tempDir('port'), 'run')], { timeoutMs: RUN_TIMEOUT_MS });
      expect(result.code).toBe(1);
      const errors = result.stderr.split('\n').filter((l) => /ERROR|Error|error/.test(l));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toContain(`port ${port} on 127.0.0.1 is already in use; pick another with --port`);
      expect(result.stderr).not.toMatch(/\n\s+at |Unhandled|node:events/);
      expect(result.stderr.length).toBeLessThan(2000);
    });
  }
});

describe('a worker that cannot reach its coordinator', () => {
  const processes: CliProcess[] = [];
  afterEach(() => processes.splice(0).forEach((p) => p.stop()));
  const worker = (url: string, extra: string[] = []) => {
    const p = new CliProcess('worker', ['worker', '--coordinator', url, '--backend', 'wasm', '--log-level', 'info', '--connect-timeout', String(CONNECT_TIMEOUT_S), ...extra]);
    processes.push(p);
    return p;
  };

  it(`nothing listening: says "connection refused" and the fix, and exits ${WORKER_NO_COORDINATOR_EXIT_CODE} after --connect-timeout`, { timeout: RUN_TIMEOUT_MS }, async () => {
    const port = await freePort();
    const w = worker(`ws://127.0.0.1:${port}`);
    expect(await w.exit(RUN_TIMEOUT_MS)).toBe(WORKER_NO_COORDINATOR_EXIT_CODE);
    expect(w.linesMatching(/WARN/)).toEqual([
      expect.stringContaining(`cannot reach the coordinator at ws://127.0.0.1:${port}: connection refused: nothing listens on 127.0.0.1:${port}; start the coordinator, or check the host and port in --coordinator`),
    ]);
    expect(w.linesMatching(/ERROR/)[0]).toMatch(new RegExp(`no coordinator at ws://127\\.0\\.0\\.1:${port} for \\d+ s; giving up \\(--connect-timeout ${CONNECT_TIMEOUT_S}\\): connection refused`));
  });

  it('an http:// URL: refused at once with the ws:// URL to use', { timeout: RUN_TIMEOUT_MS }, async () => {
    const result = await runCli(['worker', '--coordinator', 'http://127.0.0.1:7070/', '--backend', 'wasm'], { timeoutMs: RUN_TIMEOUT_MS });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--coordinator http://127.0.0.1:7070/: this is an HTTP URL (the dashboard\'s); workers connect with ws://127.0.0.1:7070');
  });

  describe('a TLS coordinator', () => {
    const dir = tempDir('tls-mistakes');
    let coordinator: CliProcess | undefined;
    let port = 0;
    let pair: ReturnType<typeof selfSignedCertificate>;
    beforeAll(async () => {
      pair = selfSignedCertificate(dir);
      if (!pair) return;
      port = await freePort();
      coordinator = new CliProcess('coordinator (tls)', [...coordinatorArgs(port, join(dir, 'run'), 1, ['--max-steps', '2', '--no-eval']), '--tls-cert', pair.cert, '--tls-key', pair.key], { DSDC_TOKEN: 'tls-mistakes-token' });
      await coordinator.waitForLine(/listening on wss:/, START_TIMEOUT_MS);
    }, START_TIMEOUT_MS);
    afterAll(() => coordinator?.stop());

    it('ws:// against it: "the coordinator speaks TLS: use wss://"', { timeout: RUN_TIMEOUT_MS }, async (context) => {
      if (!pair) return context.skip('no openssl');
      const w = worker(`ws://127.0.0.1:${port}`);
      await w.waitForLine(new RegExp(`cannot reach the coordinator at ws://127\\.0\\.0\\.1:${port}: the coordinator speaks TLS: use wss://127\\.0\\.0\\.1:${port}`), RUN_TIMEOUT_MS);
      expect(await w.exit(RUN_TIMEOUT_MS)).toBe(WORKER_NO_COORDINATOR_EXIT_CODE);
    });

    it('its self-signed certificate without --tls-ca: says to pass --tls-ca', { timeout: RUN_TIMEOUT_MS }, async (context) => {
      if (!pair) return context.skip('no openssl');
      const w = worker(`wss://127.0.0.1:${port}`);
      await w.waitForLine(/cannot reach the coordinator at wss:\S+: self-signed certificate: pass --tls-ca cert\.pem \(the coordinator's --tls-cert file\) to trust it/, RUN_TIMEOUT_MS);
      expect(await w.exit(RUN_TIMEOUT_MS)).toBe(WORKER_NO_COORDINATOR_EXIT_CODE);
    });

    it('wss:// against a plain coordinator: "does not speak TLS: use ws://"', { timeout: RUN_TIMEOUT_MS }, async () => {
      const plainPort = await freePort();
      const plain = new CliProcess('coordinator (plain)', coordinatorArgs(plainPort, join(dir, 'plain'), 1, ['--max-steps', '2', '--no-eval']));
      processes.push(plain);
      await plain.waitForLine(/listening on ws:/, START_TIMEOUT_MS);
      const w = worker(`wss://127.0.0.1:${plainPort}`);
      await w.waitForLine(new RegExp(`127\\.0\\.0\\.1:${plainPort} does not speak TLS: the coordinator serves plain WebSocket; use ws://127\\.0\\.0\\.1:${plainPort}`), RUN_TIMEOUT_MS);
    });
  });
});

describe('run directories and --resume', () => {
  const root = tempDir('resume-mistakes');
  const runDir = join(root, 'run');
  const standalone = (extra: string[]) => runCli(['worker', '--standalone', ...TINY_RUN, '--no-eval', '--log-level', 'info', ...extra], { timeoutMs: RUN_TIMEOUT_MS });
  beforeAll(async () => {
    const first = await standalone(['--max-steps', '2', '--run-dir', runDir]);
    expect(first.code, first.stderr).toBe(0);
  }, RUN_TIMEOUT_MS);

  it('reusing a run directory without --resume is refused, offering --resume or another directory, and nothing is written', { timeout: RUN_TIMEOUT_MS }, async () => {
    const before = (await import('node:fs')).readFileSync(join(runDir, 'metrics.jsonl'), 'utf8');
    const again = await standalone(['--max-steps', '2', '--run-dir', runDir]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`run directory ${runDir} already holds a run (checkpoints up to step 2 and metrics.jsonl); continue it with --resume --run-dir ${runDir}, or start a new run in another --run-dir`);
    expect((await import('node:fs')).readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')).toBe(before);
  });

  it('--resume without --run-dir is an error, not a new run', { timeout: RUN_TIMEOUT_MS }, async () => {
    const result = await standalone(['--max-steps', '2', '--resume']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--resume needs --run-dir: name the run directory to continue');
    expect(result.stderr).not.toMatch(/training \d+ steps/);
  });

  it('--resume with flags that differ from the checkpoint: says it applies --max-steps and ignores --learning-rate and --seed', { timeout: RUN_TIMEOUT_MS }, async () => {
    const result = await standalone(['--max-steps', '3', '--lr', '0.05', '--seed', '7', '--run-dir', runDir, '--resume']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain("--resume: applying --max-steps 3 (the checkpoint's run had 2)");
    expect(result.stderr).toMatch(/--resume: ignoring --learning-rate \(the run keeps [\d.e-]+, not 0\.05\), --seed \(the run keeps \d+, not 7\): a resumed run keeps its checkpoint's config; start a new run in another --run-dir to change them/);
    // Flags given with the checkpoint's own values (TINY_RUN's --batch-size 32) are not news.
    const quiet = await standalone(['--max-steps', '4', '--run-dir', runDir, '--resume']);
    expect(quiet.stderr).not.toContain('--resume: ignoring');
  });
});

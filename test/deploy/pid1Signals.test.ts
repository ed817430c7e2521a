// In a container the ENTRYPOINT is PID 1 of its PID namespace, and the kernel delivers to PID 1
// only the signals it handles: a worker without its own SIGTERM handler would ignore the
// kubelet's SIGTERM and be killed with 137 at the end of the grace period, which the worker
// Job counts as a failure. Here the worker runs as PID 1 of a new PID namespace (unshare), as in
// a pod, and must leave with 143, which the Job replaces without counting.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { IJob } from 'kubernetes-models/batch/v1';
import { CLI, REPO_ROOT } from '../helpers/cli.js';
import { find, podOutcome, readManifests } from './podSpec.js';

const EVENT_TIMEOUT_MS = 60_000;

function pidNamespacesWork(): { ok: true } | { ok: false; reason: string } {
  const probe = spawnSync('unshare', ['--pid', '--fork', 'true'], { encoding: 'utf8' });
  if (probe.error) return { ok: false, reason: `unshare cannot run: ${probe.error.message}` };
  if (probe.status !== 0) return { ok: false, reason: `unshare --pid failed (root needed): ${probe.stderr.trim()}` };
  return { ok: true };
}

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('a worker as PID 1 of its PID namespace, as in a pod', () => {
  it('leaves on SIGTERM with 143, which the worker Job replaces without counting it', async ({ skip }) => {
    const support = pidNamespacesWork();
    if (!support.ok) {
      if (process.env.CI) throw new Error(`CI must run this test: ${support.reason}`);
      return skip(support.reason);
    }
    const url = `ws://127.0.0.1:${await closedPort()}`;
    const unshare = spawn('unshare', ['--pid', '--fork', '--kill-child', process.execPath, CLI, 'worker', '--coordinator', url, '--backend', 'wasm', '--connect-timeout', '120'], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH, DSDC_TOKEN: 'pid1-test-token-0123456789abcdef' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let stderr = '';
      // The worker says it cannot reach the coordinator once its handlers are in place.
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no connection attempt within ${EVENT_TIMEOUT_MS} ms:\n${stderr}`)), EVENT_TIMEOUT_MS);
        unshare.stderr!.on('data', (d) => {
          stderr += d;
          if (/cannot reach the coordinator/.test(stderr)) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      const [workerPid] = readFileSync(`/proc/${unshare.pid}/task/${unshare.pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
      expect(readFileSync(`/proc/${workerPid}/status`, 'utf8')).toMatch(/^NSpid:\s+\d+\s+1$/m);
      const exited = new Promise<number | null>((resolve) => unshare.once('exit', (code) => resolve(code)));
      process.kill(workerPid, 'SIGTERM');
      const code = await Promise.race([exited, new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), EVENT_TIMEOUT_MS))]);
      expect(code, stderr).toBe(143);
      const workerJob = find<IJob>(readManifests(join(REPO_ROOT, 'deploy', 'kubernetes', 'workers.yaml')), 'Job', 'dsdc-worker');
      expect(podOutcome(workerJob, 'worker', code as number)).toBe('Ignore');
    } finally {
      if (unshare.exitCode === null) unshare.kill('SIGKILL');
    }
  });
});

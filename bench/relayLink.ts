// Step time and coordinator bytes with and without host-level relays when the coordinator's
// link is the bottleneck: a netlab (network namespaces, tools/netlab) with the coordinator on a
// host whose link tbf limits to RATE Mbit/s each way, and two worker hosts of K workers each,
// either all 2·K workers connected directly or one relay per host. Needs root (netlab).
//   npx tsx bench/relayLink.ts [rateMbit=20 (0: no limit)] [workersPerHost=2] [steps=20] [batchSize=64]
// A small batch keeps compute (noisy on a shared machine) small next to the link's term; the
// bytes per step do not depend on it.
// Prints one JSON line per layout: step_timings_ms (mean, step 1 left out) and bytes_per_step.
import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NetLab, netlabSupport, type LabHost } from '../tools/netlab/index.js';

const CLI = fileURLToPath(new URL('../bin/dsdc-dist.js', import.meta.url));
const REPO = fileURLToPath(new URL('..', import.meta.url));
const PORT = 7070;
const [rateMbit, perHost, steps, batchSize] = [Number(process.argv[2] ?? 20), Number(process.argv[3] ?? 2), Number(process.argv[4] ?? 20), Number(process.argv[5] ?? 64)];
const TRAINING = ['--backend', 'wasm', '--train-limit', '2048', '--no-eval', '--batch-size', String(batchSize), '--seed', '7', '--max-steps', String(steps), '--log-level', 'warn'];

function exited(child: ChildProcess, name: string): Promise<{ code: number | null; stdout: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => (stdout += d));
  child.stderr?.on('data', (d) => (stderr += d));
  return new Promise((resolve) =>
    child.on('exit', (code) => {
      if (code !== 0) process.stderr.write(`${name} exited ${code}\n${stderr.slice(-2000)}\n`);
      resolve({ code, stdout });
    }),
  );
}

async function layout(name: string, coordinator: LabHost, hosts: LabHost[], relays: boolean, env: NodeJS.ProcessEnv) {
  const members = relays ? hosts.length : hosts.length * perHost;
  const runDir = `/tmp/dsdc-relaylink-${process.pid}-${name}`;
  const coord = exited(
    coordinator.spawn(process.execPath, [CLI, 'coordinator', '--workers', String(members), '--host', '0.0.0.0', '--port', String(PORT), '--allowed-host', 'coord', ...TRAINING, '--run-dir', runDir, '--json'], { env, cwd: REPO }),
    'coordinator',
  );
  const url = `ws://coord:${PORT}`;
  const others = hosts.flatMap((host) =>
    relays
      ? [exited(host.spawn(process.execPath, [CLI, 'relay', '--coordinator', url, '--workers', String(perHost), '--backend', 'wasm', '--relay-id', `relay-${host.name}`, '--log-level', 'warn'], { env, cwd: REPO }), `relay on ${host.name}`)]
      : Array.from({ length: perHost }, (_, i) =>
          exited(host.spawn(process.execPath, [CLI, 'worker', '--coordinator', url, '--worker-id', `${host.name}-${i}`, '--backend', 'wasm', '--log-level', 'warn'], { env, cwd: REPO }), `worker ${host.name}-${i}`),
        ),
  );
  const [result] = await Promise.all([coord, ...others]);
  const summary = JSON.parse(result.stdout.trim().split('\n').pop()!);
  (await import('node:fs')).rmSync(runDir, { recursive: true, force: true });
  return { layout: name, rate_mbit: rateMbit, batch_size: batchSize, workers: hosts.length * perHost, members, steps: summary.steps, bytes_per_step: summary.bytes_per_step, step_timings_ms: summary.step_timings_ms };
}

const support = netlabSupport();
if (!support.ok) {
  process.stderr.write(`netlab cannot run here: ${support.reason}\n`);
  process.exit(1);
}
const lab = await NetLab.create();
try {
  const coordinator = await lab.addHost('coord', { shape: rateMbit > 0 ? { rateMbit } : {} });
  const hosts = [await lab.addHost('hosta'), await lab.addHost('hostb')];
  const env = { DSDC_TOKEN: randomBytes(24).toString('hex') };
  for (const [name, relays] of [['direct', false], ['relays', true]] as const) {
    process.stdout.write(JSON.stringify(await layout(name, coordinator, hosts, relays, env)) + '\n');
  }
} finally {
  await lab.destroy();
}

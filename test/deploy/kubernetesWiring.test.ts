// The wiring of deploy/kubernetes/ executed: each pod's command, args and env run exactly as the
// manifests state them (Secret and field references and $(VAR) resolved as the kubelet does),
// each pod in a network namespace of its own, the Service's names resolving to the
// coordinator's namespace, the Jobs' policies applied to every exit (jobController.ts), and the
// readiness probe requested as the kubelet does, by pod IP, from another namespace.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { IJob } from 'kubernetes-models/batch/v1';
import type { IContainer, ISecret, IService } from 'kubernetes-models/v1';
import { NetLab, type LabHost } from '../../tools/netlab/index.js';
import { netlabSkipReason } from '../helpers/netlab.js';
import { WORKER_RUN_STOPPED_EXIT_CODE } from '../../src/worker/exitCodes.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { stepRecords as runDirStepRecords } from '../reliability/harness.js';
import { JobController } from './jobController.js';
import { containerOf, containerRun, find, indexedJobPod, podSpecOf, probeUrl, readImage, readManifests, type ContainerRun } from './podSpec.js';

const RUN_TIMEOUT_MS = 420_000;
const EVENT_TIMEOUT_MS = 180_000;
const NAMESPACE = 'dsdc';
const DEPLOY_DIR = join(REPO_ROOT, 'deploy', 'kubernetes');

const manifests = ['coordinator.yaml', 'workers.yaml', 'token-secret.example.yaml'].flatMap((f) => readManifests(join(DEPLOY_DIR, f)));
const coordinatorJob = find<IJob>(manifests, 'Job', 'dsdc-coordinator');
const workerJob = find<IJob>(manifests, 'Job', 'dsdc-worker');
const service = find<IService>(manifests, 'Service', 'dsdc-coordinator');
const exampleSecret = find<ISecret>(manifests, 'Secret', 'dsdc-token');
const image = readImage(join(REPO_ROOT, 'Containerfile'));

// ---- What cannot exist here, substituted, and nothing else ------------------------------------
// 1. The image: its WORKDIR (/app) is this checkout; `node` on its PATH is this Node; its user's
//    home a temporary folder.
// 2. The GPU: --backend wasm where the manifests say webgpu (the nvidia.com/gpu limit gives nothing here).
// 3. The run's size: 256 images and a few steps of 32 instead of 15 epochs of 60,000.
// 4. The volumes: a temporary folder each; the claim's folder outlives the coordinator's pods.
// 5. The Secret's value: 48 random hex digits, as `kubectl create secret … "$(openssl rand -hex 24)"`
//    makes it (the example's placeholder is refused by design: manifests.test.ts).
const IMAGE_HOME = '/home/node';
const tinyRun = (steps: number) => ({ '--backend': 'wasm', '--epochs': '1', '--train-limit': '256', '--test-limit': '64', '--batch-size': '32', '--max-steps': String(steps), '--checkpoint-every': '2' });
const WORKER_FLAGS = { '--backend': 'wasm' };
const secrets: ISecret[] = [{ ...exampleSecret, stringData: { token: randomBytes(24).toString('hex') } }];

function substitute(run: ContainerRun, folders: Record<string, string>, flags: Record<string, string>): { command: string; args: string[]; env: NodeJS.ProcessEnv } {
  const paths = { [image.workdir]: REPO_ROOT.replace(/\/$/, ''), [IMAGE_HOME]: folders[IMAGE_HOME], ...folders };
  const local = (text: string) => {
    for (const [from, to] of Object.entries(paths)) if (text === from || text.startsWith(`${from}/`)) return to + text.slice(from.length);
    return text;
  };
  const args = run.args.map(local);
  for (const [flag, value] of Object.entries(flags)) {
    const at = args.indexOf(flag);
    if (at >= 0) args[at + 1] = value;
    else args.push(flag, value);
  }
  const [program, ...rest] = run.command.map(local);
  expect(program).toBe('node');
  const env = Object.fromEntries(Object.entries(run.env).map(([k, v]) => [k, local(v)]));
  return { command: process.execPath, args: [...rest, ...args], env: { PATH: process.env.PATH, HOME: folders[IMAGE_HOME], ...env } };
}
// -----------------------------------------------------------------------------------------------

/**
 * Starts a pod's container in its host: with `env -i`, so that its environment is the pod's and
 * nothing of this test process's (the lab's spawn adds to this process's environment).
 */
function spawnPod(host: LabHost, pod: { command: string; args: string[]; env: NodeJS.ProcessEnv }): ChildProcess {
  const pairs = Object.entries(pod.env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));
  return host.spawn('env', ['-i', ...pairs, pod.command, ...pod.args], { cwd: REPO_ROOT });
}

/** Outside CI, where no lab can be made, the tests skip with the reason; in CI that is an error. */
const skipReason = netlabSkipReason();
const folders: string[] = [];
function folder(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `dsdc-k8s-${name}-`));
  folders.push(dir);
  return dir;
}

/** Each pod's output, kept for the assertion messages. */
const logs = new Map<string, string>();
function collect(name: string, child: ChildProcess): ChildProcess {
  logs.set(name, '');
  const add = (d: Buffer) => logs.set(name, logs.get(name)! + d.toString());
  child.stdout?.on('data', add);
  child.stderr?.on('data', add);
  return child;
}
const allLogs = () => [...logs].map(([name, text]) => `--- ${name}\n${text.slice(-2000)}`).join('\n');

function waitForLog(name: string, pattern: RegExp): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const check = () => {
      if (pattern.test(logs.get(name) ?? '')) return resolve();
      if (Date.now() - started > EVENT_TIMEOUT_MS) return reject(new Error(`${name} did not log ${pattern} within ${EVENT_TIMEOUT_MS} ms\n${allLogs()}`));
      setTimeout(check, 100);
    };
    check();
  });
}

/** An HTTP GET from inside `host` (the kubelet's node), as a probe makes it: status and body. */
async function getFrom(host: LabHost, url: string): Promise<{ status: number; body: string }> {
  const script = `fetch(${JSON.stringify(url)}).then(async (r) => console.log(JSON.stringify({ status: r.status, body: await r.text() })), (e) => { console.error(String(e.cause ?? e)); process.exit(1); })`;
  const child = host.spawn(process.execPath, ['-e', script], { env: { PATH: process.env.PATH } });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (err += d));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`GET ${url} from ${host.name} failed: ${err}`);
  return JSON.parse(out.trim().split('\n').pop()!) as { status: number; body: string };
}

function stepRecords(claim: string): Array<{ step: number; workers: number }> {
  return runDirStepRecords(join(claim, 'run'));
}

describe.skipIf(skipReason !== undefined)('deploy/kubernetes run in network namespaces, one per pod', () => {
  let lab: NetLab;
  let coordinatorHost: LabHost;
  let workerHosts: LabHost[];
  let node: LabHost;
  const controllers: JobController[] = [];
  const coordinator: IContainer = containerOf(podSpecOf(coordinatorJob), 'coordinator');
  const worker: IContainer = containerOf(podSpecOf(workerJob), 'worker');

  beforeEach(async () => {
    logs.clear();
    lab = await NetLab.create({ prefix: 'k8s' });
    // The Service: its names resolve to the coordinator pod's namespace. Kubernetes would route
    // the Service port to the target port; here they must be the same number.
    const [port] = service.spec!.ports!;
    expect(coordinator.ports!.find((p) => p.name === port.targetPort)!.containerPort).toBe(port.port);
    const serviceName = service.metadata!.name!;
    coordinatorHost = await lab.addHost('coord', { aliases: [serviceName, `${serviceName}.${NAMESPACE}.svc`] });
    workerHosts = [];
    for (let i = 0; i < workerJob.spec!.completions!; i++) workerHosts.push(await lab.addHost(`w${i}`));
    node = await lab.addHost('node');
  }, EVENT_TIMEOUT_MS);

  afterEach(async () => {
    for (const controller of controllers.splice(0)) controller.kill();
    await lab?.destroy();
    for (const dir of folders.splice(0)) rmSync(dir, { recursive: true, force: true });
  }, EVENT_TIMEOUT_MS);

  /** The coordinator's Job, its pods on the one claim folder. */
  function coordinatorPods(claim: string, steps: number): JobController {
    const controller = new JobController(coordinatorJob, 'coordinator', (_index, name) => {
      const run = containerRun(coordinator, image, { name, namespace: NAMESPACE, ip: coordinatorHost.address }, secrets);
      const pod = substitute(run, { '/var/lib/dsdc': claim, '/var/cache/dsdc': folder('cache'), [IMAGE_HOME]: folder('home') }, tinyRun(steps));
      return collect(name, spawnPod(coordinatorHost, pod));
    });
    controllers.push(controller);
    return controller;
  }

  function workerPods(): JobController {
    const controller = new JobController(workerJob, 'worker', (index, name) => {
      const { pod: spec, annotations } = indexedJobPod(podSpecOf(workerJob), index);
      const host = workerHosts[index];
      const run = containerRun(containerOf(spec, 'worker'), image, { name, namespace: NAMESPACE, ip: host.address, annotations }, secrets);
      expect(run.env.JOB_COMPLETION_INDEX).toBe(String(index));
      const pod = substitute(run, { '/var/cache/dsdc': folder('cache'), [IMAGE_HOME]: folder('home') }, WORKER_FLAGS);
      return collect(name, spawnPod(host, pod));
    });
    controllers.push(controller);
    return controller;
  }

  it('a short run finishes: every step done by the 4 workers, the readiness probe answers by pod IP without the token, both Jobs complete', async () => {
    const steps = 3;
    const claim = folder('claim');
    const coordinators = coordinatorPods(claim, steps);
    const workers = workerPods();
    coordinators.start();
    workers.start();

    await waitForLog(coordinators.pods[0].name, /listening on ws:\/\/0\.0\.0\.0:7070/);
    for (const probe of [coordinator.readinessProbe, coordinator.livenessProbe, coordinator.startupProbe]) {
      const url = probeUrl(coordinator, probe, coordinatorHost.address);
      const answer = await getFrom(node, url);
      expect(answer, url).toEqual({ status: 200, body: JSON.stringify({ ok: true }) });
    }
    // Only the bare /healthz is open: the rest of the HTTP side still needs the token.
    expect((await getFrom(node, `http://${coordinatorHost.address}:7070/metrics`)).status).toBe(401);

    // The coordinator's Job first: when it fails, the workers would wait out --connect-timeout.
    expect(await coordinators.end, allLogs()).toEqual({ state: 'Complete' });
    expect(await workers.end, allLogs()).toEqual({ state: 'Complete' });
    const [pod] = coordinators.pods;
    expect(coordinators.pods.map((p) => p.exitCode)).toEqual([0]);
    const summary = JSON.parse(logs.get(pod.name)!.trim().split('\n').filter((l) => l.startsWith('{')).pop()!);
    expect(summary).toMatchObject({ steps, workers: 4, interrupted: false });
    expect(stepRecords(claim).map((r) => [r.step, r.workers])).toEqual([[1, 4], [2, 4], [3, 4]]);
    // No worker failed or was replaced; those the Job did not stop at its completion exited 0.
    expect(workers.pods).toHaveLength(4);
    for (const w of workers.pods) expect(w.stoppedByJob ? 'stopped at completion' : w.exitCode, w.name).toBeOneOf([0, 'stopped at completion']);
    expect(workers.pods.filter((w) => w.exitCode === 0).length).toBeGreaterThan(0);
  }, RUN_TIMEOUT_MS);

  it('a coordinator pod stopped mid-run (SIGTERM) is replaced on the same claim and resumes; its workers exit 75 and are replaced; no step lost or done twice', async () => {
    const steps = 6;
    const claim = folder('claim');
    const coordinators = coordinatorPods(claim, steps);
    const workers = workerPods();
    coordinators.start();
    workers.start();
    await new Promise<void>((resolve, reject) => {
      const started = Date.now();
      const check = () => {
        if (stepRecords(claim).some((r) => r.step >= 3)) return resolve();
        if (Date.now() - started > EVENT_TIMEOUT_MS) return reject(new Error(`no step 3 within ${EVENT_TIMEOUT_MS} ms\n${allLogs()}`));
        setTimeout(check, 100);
      };
      check();
    });
    // What the kubelet does to a pod that is deleted or whose node is drained.
    coordinators.pods[0].process.kill('SIGTERM');

    // The coordinator's Job first: when it fails, the workers would wait out --connect-timeout.
    expect(await coordinators.end, allLogs()).toEqual({ state: 'Complete' });
    expect(await workers.end, allLogs()).toEqual({ state: 'Complete' });
    expect(coordinators.pods.map((p) => [p.exitCode, p.outcome])).toEqual([[143, 'Ignore'], [0, 'Succeeded']]);
    const firstGeneration = workers.pods.slice(0, 4);
    for (const w of firstGeneration) expect([w.exitCode, w.outcome], w.name).toEqual([WORKER_RUN_STOPPED_EXIT_CODE, 'Ignore']);
    expect(workers.pods.length).toBeGreaterThanOrEqual(8);
    expect(workers.pods.some((w) => w.outcome === 'Count')).toBe(false);
    const done = stepRecords(claim).map((r) => r.step);
    expect(done).toEqual(Array.from({ length: steps }, (_, i) => i + 1));
    const last = coordinators.pods[1];
    expect(JSON.parse(logs.get(last.name)!.trim().split('\n').filter((l) => l.startsWith('{')).pop()!)).toMatchObject({ steps, interrupted: false });
  }, RUN_TIMEOUT_MS);
});

if (skipReason !== undefined) {
  describe('deploy/kubernetes in network namespaces', () => {
    it.skip(skipReason, () => {});
  });
}

// deploy/kubernetes/ against the Kubernetes API schemas, and the facts that tie its pieces to
// each other and to the program: the Service reaches the coordinator's port, the workers connect
// to the Service by a name the coordinator serves, the Jobs' policies read the worker's and the
// coordinator's exit codes as the program means them, the pods run the image's ENTRYPOINT.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { IJob } from 'kubernetes-models/batch/v1';
import type { ISecret, IService } from 'kubernetes-models/v1';
import { WORKER_NO_COORDINATOR_EXIT_CODE, WORKER_REFUSED_EXIT_CODE, WORKER_RUN_STOPPED_EXIT_CODE } from '../../src/worker/exitCodes.js';
import { signalExitCode } from '../../src/cli/output.js';
import { REPO_ROOT, runCli } from '../helpers/cli.js';
import { containerOf, expandReferences, find, podOutcome, podSpecOf, probeUrl, readImage, readManifests, validateManifest, type Manifest } from './podSpec.js';

const DEPLOY_DIR = join(REPO_ROOT, 'deploy', 'kubernetes');
const manifestFiles = readdirSync(DEPLOY_DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
const all = manifestFiles.flatMap((f) => readManifests(join(DEPLOY_DIR, f)));
const coordinatorJob = find<IJob>(all, 'Job', 'dsdc-coordinator');
const workerJob = find<IJob>(all, 'Job', 'dsdc-worker');
const service = find<IService>(all, 'Service', 'dsdc-coordinator');
const secret = find<ISecret>(all, 'Secret', 'dsdc-token');
const coordinator = containerOf(podSpecOf(coordinatorJob), 'coordinator');
const worker = containerOf(podSpecOf(workerJob), 'worker');
const image = readImage(join(REPO_ROOT, 'Containerfile'));

/** The value after a flag in a container's args. */
function flag(args: readonly string[] | undefined, name: string): string[] {
  return (args ?? []).flatMap((a, i) => (a === name ? [args![i + 1]] : []));
}

describe('the manifests against the Kubernetes API schemas', () => {
  it('every document of every file is a valid object of its kind', () => {
    expect(manifestFiles.sort()).toEqual(['coordinator.yaml', 'token-secret.example.yaml', 'workers.yaml']);
    expect(all.map((m) => `${m.kind}/${m.metadata.name}`).sort()).toEqual(['Job/dsdc-coordinator', 'Job/dsdc-worker', 'PersistentVolumeClaim/dsdc-run', 'Secret/dsdc-token', 'Service/dsdc-coordinator']);
  });

  it('catches an invalid manifest: a wrong type, a missing required field, an unknown kind', () => {
    const broken = (edit: (job: Manifest & { spec: any }) => void) => {
      const copy = structuredClone(workerJob) as unknown as Manifest & { spec: any };
      edit(copy);
      return () => validateManifest(copy, 'broken.yaml');
    };
    expect(broken((j) => (j.spec.completions = 'four'))).toThrow(/broken\.yaml: Job dsdc-worker does not match the Kubernetes API schema: .*completions/);
    expect(broken((j) => delete j.spec.template.spec.containers[0].name)).toThrow(/containers\/0.*name|name.*containers\/0/);
    expect(broken((j) => (j.spec.podFailurePolicy.rules[0].action = 'Retry'))).toThrow(/action/);
    expect(broken((j) => (j.kind = 'Jobb'))).toThrow(/kind batch\/v1\/Jobb is not one these manifests may use/);
  });

  it('kustomization.yaml names files that exist, and leaves the token Secret out', () => {
    const kustomization = parse(readFileSync(join(DEPLOY_DIR, 'kustomization.yaml'), 'utf8')) as { resources: string[]; images: { name: string }[] };
    for (const file of kustomization.resources) expect(existsSync(join(DEPLOY_DIR, file)), file).toBe(true);
    expect(kustomization.resources).not.toContain('token-secret.example.yaml');
    expect(kustomization.images.map((i) => i.name)).toEqual([coordinator.image!.split(':')[0]]);
  });
});

describe('the wiring between the manifests', () => {
  it('the Service selects the coordinator pod and reaches the port it listens on', () => {
    const labels = coordinatorJob.spec!.template.metadata!.labels!;
    for (const [key, value] of Object.entries(service.spec!.selector!)) expect(labels[key], key).toBe(value);
    const [servicePort] = service.spec!.ports!;
    const target = coordinator.ports!.find((p) => p.name === servicePort.targetPort);
    expect(target?.containerPort).toBe(Number(flag(coordinator.args, '--port')[0]));
  });

  it('the workers connect to the Service by a name the coordinator serves (Host check), on the Service port', () => {
    const url = new URL(flag(worker.args, '--coordinator')[0]);
    expect(url.protocol).toBe('ws:');
    expect(url.hostname).toBe(service.metadata!.name);
    expect(Number(url.port)).toBe(service.spec!.ports![0].port);
    expect(flag(coordinator.args, '--allowed-host')).toContain(url.hostname);
    expect(flag(coordinator.args, '--host')).toEqual(['0.0.0.0']);
  });

  it('startup, readiness and liveness probes ask /healthz on the coordinator port', () => {
    for (const probe of [coordinator.startupProbe, coordinator.readinessProbe, coordinator.livenessProbe]) {
      expect(probeUrl(coordinator, probe, '198.18.0.2')).toBe(`http://198.18.0.2:${flag(coordinator.args, '--port')[0]}/healthz`);
    }
  });

  it('the coordinator resumes its run directory, which lies on the PersistentVolumeClaim', () => {
    expect(coordinator.args).toContain('--resume');
    const runDir = flag(coordinator.args, '--run-dir')[0];
    const pod = podSpecOf(coordinatorJob);
    const claimVolume = pod.volumes!.find((v) => v.persistentVolumeClaim?.claimName === 'dsdc-run')!;
    const mount = coordinator.volumeMounts!.find((m) => m.name === claimVolume.name)!;
    expect(runDir.startsWith(`${mount.mountPath}/`)).toBe(true);
    expect(coordinatorJob.spec!.parallelism).toBe(1);
    expect(coordinatorJob.spec!.podReplacementPolicy).toBe('Failed');
  });

  it('each worker has one GPU and the webgpu backend; the coordinator none', () => {
    expect(worker.resources!.limits!['nvidia.com/gpu']).toBe(1);
    expect(flag(worker.args, '--backend')).toEqual(['webgpu']);
    expect(coordinator.resources?.limits?.['nvidia.com/gpu']).toBeUndefined();
    expect(workerJob.spec!.completions).toBe(Number(flag(coordinator.args, '--workers')[0]));
    expect(workerJob.spec!.completionMode).toBe('Indexed');
  });

  it('every pod takes the token from the Secret, and runs the image ENTRYPOINT as a non-root user', () => {
    for (const [job, container] of [[coordinatorJob, coordinator], [workerJob, worker]] as const) {
      const ref = container.env!.find((e) => e.name === 'DSDC_TOKEN')!.valueFrom!.secretKeyRef!;
      expect(ref.name).toBe(secret.metadata!.name);
      expect(Object.keys(secret.stringData!)).toContain(ref.key);
      expect(container.command).toEqual(image.entrypoint);
      expect(podSpecOf(job).securityContext!.runAsNonRoot).toBe(true);
      expect(podSpecOf(job).restartPolicy).toBe('Never'); // podFailurePolicy needs it
    }
    expect(readFileSync(join(REPO_ROOT, 'Containerfile'), 'utf8')).toMatch(/^USER node$/m);
  });
});

describe("the Jobs read the program's exit codes", () => {
  const SIGINT = signalExitCode('SIGINT');
  const SIGTERM = signalExitCode('SIGTERM');

  it('workers: 0 succeeds, run stopped and signals are replaced, refused fails the Job, no coordinator counts', () => {
    const outcome = (code: number) => podOutcome(workerJob, 'worker', code);
    expect(outcome(0)).toBe('Succeeded');
    expect(outcome(WORKER_RUN_STOPPED_EXIT_CODE)).toBe('Ignore');
    expect(outcome(SIGINT)).toBe('Ignore');
    expect(outcome(SIGTERM)).toBe('Ignore');
    expect(outcome(WORKER_REFUSED_EXIT_CODE)).toBe('FailJob');
    expect(outcome(WORKER_NO_COORDINATOR_EXIT_CODE)).toBe('Count');
    expect(outcome(1)).toBe('Count');
    expect(outcome(137)).toBe('Count'); // OOM-killed: a real failure
    expect(podOutcome(workerJob, 'worker', 137, ['DisruptionTarget'])).toBe('Ignore'); // preempted
    // One worker done means the run is done: the coordinator ends every worker at once.
    expect(workerJob.spec!.successPolicy!.rules).toEqual([{ succeededCount: 1 }]);
  });

  it('coordinator: 0 succeeds, a signal (after its checkpoint) or an eviction is replaced, the rest counts', () => {
    const outcome = (code: number, conditions?: string[]) => podOutcome(coordinatorJob, 'coordinator', code, conditions);
    expect(outcome(0)).toBe('Succeeded');
    expect(outcome(SIGTERM)).toBe('Ignore');
    expect(outcome(SIGINT)).toBe('Ignore');
    expect(outcome(74)).toBe('Count');
    expect(outcome(1)).toBe('Count');
    expect(outcome(137, ['DisruptionTarget'])).toBe('Ignore');
  });
});

describe("Kubernetes' $(VAR) expansion", () => {
  it('replaces defined variables, keeps undefined ones as written, and reads $$ as a literal $', () => {
    const env = { POD_NAMESPACE: 'team-a', EMPTY: '' };
    expect(expandReferences('dsdc-coordinator.$(POD_NAMESPACE).svc', env)).toBe('dsdc-coordinator.team-a.svc');
    expect(expandReferences('$(MISSING)-$(EMPTY)x', env)).toBe('$(MISSING)-x');
    expect(expandReferences('$$(POD_NAMESPACE) $5 $(unclosed', env)).toBe('$(POD_NAMESPACE) $5 $(unclosed');
  });
});

describe('the example Secret', () => {
  it('holds a placeholder that a coordinator off loopback refuses, naming the command that makes a real token', async () => {
    const result = await runCli(['coordinator', '--host', '0.0.0.0', '--port', '0', '--workers', '1', '--backend', 'wasm', '--log-level', 'warn'], { env: { DSDC_TOKEN: secret.stringData!.token }, timeoutMs: 60_000 });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/TOKEN_TOO_WEAK/);
    expect(result.stderr).toContain('openssl rand -hex 24');
  });
});

// Reads deploy/kubernetes/ the way Kubernetes does, for the tests: YAML documents checked against
// the API schemas (kubernetes-models), and what each container of a pod would run: its command,
// args and environment, with secretKeyRef, fieldRef and $(VAR) resolved as the kubelet resolves
// them, the image's ENV underneath. Also what a Job makes of a pod's exit (podFailurePolicy) and
// where the kubelet sends a probe.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { PersistentVolumeClaim, Secret, Service } from 'kubernetes-models/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import type { IContainer, IEnvVar, IPodSpec, IProbe } from 'kubernetes-models/v1';
import type { IJob } from 'kubernetes-models/batch/v1';
import type { ISecret } from 'kubernetes-models/v1';

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

/** The kinds deploy/kubernetes/ may hold, each with the model that validates it. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'batch/v1/Job': Job,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
};

/** Every YAML document of a file, each checked against the Kubernetes API schema of its kind. */
export function readManifests(file: string): Manifest[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((doc, i) => {
    if (doc.errors.length > 0) throw new Error(`${file}: document ${i + 1} is not valid YAML: ${doc.errors[0].message}`);
    const manifest = doc.toJS() as Manifest;
    validateManifest(manifest, `${file} (document ${i + 1})`);
    return manifest;
  });
}

export function validateManifest(manifest: Manifest, where: string): void {
  const Model = MODELS[`${manifest?.apiVersion}/${manifest?.kind}`];
  if (!Model) throw new Error(`${where}: kind ${manifest?.apiVersion}/${manifest?.kind} is not one these manifests may use (${Object.keys(MODELS).join(', ')})`);
  if (typeof manifest.metadata?.name !== 'string') throw new Error(`${where}: ${manifest.kind} has no metadata.name`);
  try {
    // The models keep apiVersion and kind themselves.
    const { apiVersion: _a, kind: _k, ...data } = manifest;
    new Model(data as never).validate();
  } catch (error) {
    throw new Error(`${where}: ${manifest.kind} ${manifest.metadata.name} does not match the Kubernetes API schema: ${(error as Error).message}`);
  }
}

export function find<T = Manifest>(manifests: Manifest[], kind: string, name: string): T {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (!found) throw new Error(`no ${kind} named ${name} in the manifests (${manifests.map((m) => `${m.kind}/${m.metadata.name}`).join(', ')})`);
  return found as T;
}

export function podSpecOf(job: IJob): IPodSpec {
  return job.spec!.template.spec!;
}

export function containerOf(pod: IPodSpec, name: string): IContainer {
  const container = pod.containers.find((c) => c.name === name);
  if (!container) throw new Error(`the pod has no container named ${name}`);
  return container;
}

/** What Kubernetes knows of a pod when it starts its containers (the fieldRef sources). */
export interface PodFacts {
  name: string;
  namespace: string;
  ip: string;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
}

export interface ContainerRun {
  command: string[];
  args: string[];
  env: Record<string, string>;
}

/** The annotation of an Indexed Job's pod and the variable the Job controller adds from it. */
export const COMPLETION_INDEX_ANNOTATION = 'batch.kubernetes.io/job-completion-index';

/**
 * An Indexed Job's pods get JOB_COMPLETION_INDEX, appended to each container's env by the Job
 * controller, from the completion-index annotation it sets.
 */
export function indexedJobPod(pod: IPodSpec, index: number): { pod: IPodSpec; annotations: Record<string, string> } {
  const env: IEnvVar = { name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${COMPLETION_INDEX_ANNOTATION}']` } } };
  return {
    pod: { ...pod, containers: pod.containers.map((c) => ({ ...c, env: [...(c.env ?? []), env] })) },
    annotations: { [COMPLETION_INDEX_ANNOTATION]: String(index) },
  };
}

/**
 * The command, args and environment a container starts with: the image's ENV, overlaid by the
 * container's env in order (a value's $(VAR) sees only the variables before it), then $(VAR) in
 * command and args from the whole environment. As in Kubernetes, `$$` is a literal `$` and a
 * reference to an undefined variable stays as written.
 */
export function containerRun(container: IContainer, image: { entrypoint: string[]; env: Record<string, string> }, pod: PodFacts, secrets: ISecret[]): ContainerRun {
  const env: Record<string, string> = { ...image.env };
  for (const variable of container.env ?? []) env[variable.name] = envValue(variable, env, pod, secrets);
  const command = container.command ?? image.entrypoint;
  return { command: command.map((a) => expandReferences(a, env)), args: (container.args ?? []).map((a) => expandReferences(a, env)), env };
}

function envValue(variable: IEnvVar, before: Record<string, string>, pod: PodFacts, secrets: ISecret[]): string {
  if (variable.valueFrom === undefined) return expandReferences(variable.value ?? '', before);
  const { secretKeyRef, fieldRef } = variable.valueFrom;
  if (secretKeyRef) {
    const secret = secrets.find((s) => s.metadata?.name === secretKeyRef.name);
    const value = secret?.stringData?.[secretKeyRef.key] ?? (secret?.data?.[secretKeyRef.key] !== undefined ? Buffer.from(secret.data[secretKeyRef.key], 'base64').toString('utf8') : undefined);
    if (value === undefined) throw new Error(`env ${variable.name}: secret ${secretKeyRef.name} has no key ${secretKeyRef.key}; the pod would not start (CreateContainerConfigError)`);
    return value;
  }
  if (fieldRef) return fieldValue(fieldRef.fieldPath, pod, variable.name);
  throw new Error(`env ${variable.name}: only value, secretKeyRef and fieldRef are resolved here`);
}

function fieldValue(path: string, pod: PodFacts, name: string): string {
  const keyed = /^metadata\.(labels|annotations)\['([^']+)'\]$/.exec(path);
  if (keyed) return (keyed[1] === 'labels' ? pod.labels : pod.annotations)?.[keyed[2]] ?? '';
  const fields: Record<string, string> = { 'metadata.name': pod.name, 'metadata.namespace': pod.namespace, 'status.podIP': pod.ip };
  if (!(path in fields)) throw new Error(`env ${name}: fieldRef ${path} is not resolved here`);
  return fields[path];
}

/** Kubernetes' $(VAR) expansion (k8s.io/kubernetes third_party/forked/golang/expansion). */
export function expandReferences(text: string, env: Record<string, string>): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== '$' || i + 1 === text.length) {
      out += text[i];
      continue;
    }
    if (text[i + 1] === '$') {
      out += '$';
      i++;
      continue;
    }
    const close = text[i + 1] === '(' ? text.indexOf(')', i + 2) : -1;
    if (close < 0) {
      out += '$';
      continue;
    }
    const name = text.slice(i + 2, close);
    out += name in env ? env[name] : `$(${name})`;
    i = close;
  }
  return out;
}

export type PodOutcome = 'Succeeded' | 'FailJob' | 'FailIndex' | 'Ignore' | 'Count';

/**
 * What a Job does with a pod whose container exited with `exitCode`: exit 0 succeeds; otherwise
 * the first podFailurePolicy rule that matches decides, and without one the failure counts
 * against backoffLimit. `conditions` are the pod's conditions (DisruptionTarget on eviction).
 */
export function podOutcome(job: IJob, containerName: string, exitCode: number, conditions: string[] = []): PodOutcome {
  if (exitCode === 0) return 'Succeeded';
  for (const rule of job.spec?.podFailurePolicy?.rules ?? []) {
    const codes = rule.onExitCodes;
    if (codes && (codes.containerName === undefined || codes.containerName === containerName)) {
      const listed = codes.values.includes(exitCode);
      if (codes.operator === 'In' ? listed : !listed) return rule.action as PodOutcome;
    }
    if (rule.onPodConditions?.some((c) => conditions.includes(c.type) && (c.status ?? 'True') === 'True')) return rule.action as PodOutcome;
  }
  return 'Count';
}

/** The URL a kubelet's httpGet probe requests: the pod's IP, the (named) container port, the path. */
export function probeUrl(container: IContainer, probe: IProbe | undefined, podIp: string): string {
  const get = probe?.httpGet;
  if (!get) throw new Error(`container ${container.name}: the probe is not an httpGet probe`);
  const port = typeof get.port === 'number' ? get.port : (container.ports ?? []).find((p) => p.name === get.port)?.containerPort ?? Number(get.port);
  if (!Number.isInteger(port)) throw new Error(`container ${container.name}: probe port ${get.port} names no container port`);
  return `${(get.scheme ?? 'HTTP').toLowerCase()}://${podIp}:${port}${get.path ?? '/'}`;
}

/** The ENTRYPOINT (exec form) and the ENV lines of a Containerfile. */
export function readImage(containerfile: string): { entrypoint: string[]; env: Record<string, string>; workdir: string } {
  const text = readFileSync(containerfile, 'utf8');
  const entry = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(text);
  if (!entry) throw new Error(`${containerfile}: no ENTRYPOINT in exec form (["node", "…"])`);
  const env = Object.fromEntries([...text.matchAll(/^ENV\s+([A-Za-z_][A-Za-z0-9_]*)=(\S+)\s*$/gm)].map((m) => [m[1], m[2]]));
  const workdir = /^WORKDIR\s+(\S+)\s*$/m.exec(text)?.[1] ?? '/';
  return { entrypoint: JSON.parse(entry[1]) as string[], env, workdir };
}

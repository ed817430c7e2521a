// What the Job controller does with a Job's pods, for the wiring tests: start one pod per index
// (an Indexed Job) or one pod, and on each exit apply the Job's podFailurePolicy and
// successPolicy (podOutcome): replace an ignored or counted failure with a new pod (counted ones
// up to backoffLimit), fail the Job on FailJob, and complete it when its success rule holds,
// stopping the pods still running with SIGTERM as the kubelet would. Pod back-off delays are
// left out: they only space the replacements.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:os';
import type { IJob } from 'kubernetes-models/batch/v1';
import { podOutcome, type PodOutcome } from './podSpec.js';

export interface PodRecord {
  index: number;
  name: string;
  process: ChildProcess;
  exitCode?: number;
  outcome?: PodOutcome;
  /** The controller stopped it after the Job had completed or failed. */
  stoppedByJob?: boolean;
}

export type JobEnd = { state: 'Complete' } | { state: 'Failed'; reason: string };

/** The container's exit status as a container runtime reports it: 128 + the signal for a killed process. */
function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  return code ?? 128 + (signal ? constants.signals[signal] : 0);
}

export class JobController {
  readonly pods: PodRecord[] = [];
  private failures = 0;
  private readonly succeeded = new Set<number>();
  private ended?: JobEnd;
  private resolveEnd!: (end: JobEnd) => void;
  /** Settles when the Job completes or fails and its remaining pods have stopped. */
  readonly end = new Promise<JobEnd>((resolve) => (this.resolveEnd = resolve));

  constructor(
    private readonly job: IJob,
    private readonly containerName: string,
    /** Starts the pod `name` for `index` (its process is the container's). */
    private readonly startPod: (index: number, name: string) => ChildProcess,
  ) {}

  start(): void {
    const indexed = this.job.spec?.completionMode === 'Indexed';
    const count = indexed ? (this.job.spec?.completions ?? 1) : 1;
    for (let index = 0; index < count; index++) this.launch(index);
  }

  running(): PodRecord[] {
    return this.pods.filter((p) => p.exitCode === undefined);
  }

  /** Stops every pod still running at once and starts no more (the test's cleanup). */
  kill(): void {
    this.ended ??= { state: 'Failed', reason: 'stopped by the test' };
    for (const pod of this.running()) pod.process.kill('SIGKILL');
  }

  private launch(index: number): void {
    const indexed = this.job.spec?.completionMode === 'Indexed';
    const name = `${this.job.metadata!.name}-${indexed ? `${index}-` : ''}${randomBytes(3).toString('hex').slice(0, 5)}`;
    const pod: PodRecord = { index, name, process: this.startPod(index, name) };
    this.pods.push(pod);
    pod.process.once('exit', (code, signal) => this.onExit(pod, exitStatus(code, signal)));
  }

  private onExit(pod: PodRecord, exitCode: number): void {
    pod.exitCode = exitCode;
    if (this.ended) {
      pod.stoppedByJob = true;
      return this.settleWhenStopped();
    }
    pod.outcome = podOutcome(this.job, this.containerName, exitCode);
    switch (pod.outcome) {
      case 'Succeeded':
        this.succeeded.add(pod.index);
        if (this.successCriteriaMet()) return this.finish({ state: 'Complete' });
        return;
      case 'Ignore':
        return this.launch(pod.index);
      case 'Count':
        this.failures++;
        if (this.failures > (this.job.spec?.backoffLimit ?? 6)) return this.finish({ state: 'Failed', reason: `backoffLimit ${this.job.spec?.backoffLimit} reached (last: pod ${pod.name} exited ${exitCode})` });
        return this.launch(pod.index);
      default:
        return this.finish({ state: 'Failed', reason: `pod ${pod.name} exited ${exitCode}: ${pod.outcome}` });
    }
  }

  private successCriteriaMet(): boolean {
    const rules = this.job.spec?.successPolicy?.rules ?? [];
    if (rules.some((r) => r.succeededIndexes === undefined && r.succeededCount !== undefined && this.succeeded.size >= r.succeededCount)) return true;
    const needed = this.job.spec?.completionMode === 'Indexed' ? (this.job.spec?.completions ?? 1) : 1;
    return this.succeeded.size >= needed;
  }

  private finish(end: JobEnd): void {
    this.ended = end;
    for (const pod of this.running()) pod.process.kill('SIGTERM');
    this.settleWhenStopped();
  }

  private settleWhenStopped(): void {
    if (this.ended && this.running().length === 0) this.resolveEnd(this.ended);
  }
}

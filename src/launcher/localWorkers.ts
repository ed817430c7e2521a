// Starts N worker processes on this machine for `dsdc-dist train --workers N`, one GPU each:
// with tensorflow-gpu by CUDA_VISIBLE_DEVICES=i, with webgpu by DSDC_GPU=i mod (adapters that
// Dawn enumerates), see src/backend/gpuAssignment.ts; restarts one that dies
// (it rejoins the run), gives up on one that cannot start, and stops them at the end.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { assignGpus, enumerateEligibleAdapters, type WorkerGpu, workerGpuEnv } from '../backend/gpuAssignment.js';
import { ALLOW_SOFTWARE_ADAPTER_ENV, type BackendChoice, currentBackendOptions, GPU_INDEX_ENV } from '../backend/index.js';
import { isSettingVariable } from '../schemas/configFile.js';
import type { Logger } from '../log/logger.js';
import { WORKER_REFUSED_EXIT_CODE, WORKER_RUN_STOPPED_EXIT_CODE } from '../worker/exitCodes.js';
import { workerNodeFlags } from './workerNodeFlags.js';

const CLI_ENTRY = fileURLToPath(new URL('../../bin/dsdc-dist.js', import.meta.url));
export const WORKER_EXIT_GRACE_MS = 15_000;
/** A worker that dies is started again after this long. */
export const RESTART_DELAY_MS = 2_000;
/** A worker that dies sooner than this after its start failed to start. */
export const QUICK_EXIT_MS = 30_000;
/** Failed starts in a row after which the launcher gives up on a worker, and so on the run. */
export const MAX_FAILED_STARTS = 3;

export interface LocalWorkersOptions {
  url: string;
  count: number;
  token: string;
  backend: BackendChoice;
  logLevel: string;
  dataDir?: string;
  /** File with the certificate to trust for a wss:// coordinator. */
  tlsCaFile?: string;
  log: Logger;
  /** Called once when a worker cannot be kept running; the run should stop with this reason. */
  onGiveUp?: (reason: string) => void;
  restartDelayMs?: number;
}

export class LocalWorkers {
  private readonly children: ChildProcess[] = [];
  private stopping = false;
  private gaveUp = false;
  private webGpus: WorkerGpu[] = [];

  constructor(private readonly o: LocalWorkersOptions) {}

  start(): void {
    // A second Ctrl-C exits the launcher at once: its workers must not outlive it, reconnecting.
    process.once('exit', () => this.killAll());
    const gpus = this.o.backend === 'tensorflow-gpu' || this.o.backend === 'auto' ? visibleGpuCount() : 0;
    this.assignWebGpus();
    for (let i = 0; i < this.o.count; i++) this.spawnWorker(i, gpus, 0);
    this.o.log.debug(`started ${this.o.count} worker process(es)${gpus > 0 ? ` over ${gpus} GPU(s)` : ''}`);
  }

  private assignWebGpus(): void {
    if (this.o.backend !== 'webgpu' && this.o.backend !== 'auto') return;
    const options = currentBackendOptions();
    // auto never takes a software adapter, whatever the permission says.
    const adapters = enumerateEligibleAdapters({ ...options, allowSoftwareAdapter: this.o.backend === 'webgpu' && options.allowSoftwareAdapter });
    if (adapters.length === 0) return;
    this.webGpus = assignGpus(this.o.count, adapters.length, options.gpu);
    const shared = this.webGpus.some((a) => a.sharedBy > 1);
    this.o.log.info(
      `webgpu: ${adapters.length} adapter(s) (${adapters.map((a, i) => `${i}: ${a.name}`).join('; ')}); ` +
        this.webGpus.map((a, i) => `local-${i} → GPU ${a.gpu}`).join(', ') +
        (shared ? ' (workers on the same GPU share it)' : ''),
    );
  }

  private spawnWorker(i: number, gpus: number, failedStarts: number): void {
    const env: NodeJS.ProcessEnv = { ...workerEnvironment(process.env), DSDC_TOKEN: this.o.token, ...workerGpuEnv(this.webGpus[i], currentBackendOptions()) };
    if (gpus > 0) {
      env.CUDA_VISIBLE_DEVICES = String(i % gpus);
      env.TF_FORCE_GPU_ALLOW_GROWTH ??= 'true';
    }
    const id = `local-${i}`;
    const args = [CLI_ENTRY, 'worker', '--coordinator', this.o.url, '--worker-id', id, '--backend', this.o.backend, '--log-level', workerLogLevel(this.o.logLevel)];
    if (this.o.dataDir) args.push('--data-dir', this.o.dataDir);
    if (this.o.tlsCaFile) args.push('--tls-ca', this.o.tlsCaFile);
    const startedAt = Date.now();
    // In a process group of its own, a worker does not get the terminal's Ctrl-C: it finishes the
    // step in flight and leaves at the coordinator's bye, after its checkpoint, like on SIGTERM.
    const child = spawn(process.execPath, [...workerNodeFlags(this.o.count), ...args], { env, stdio: ['ignore', 'inherit', 'inherit'], detached: true });
    this.children[i] = child;
    child.on('exit', (code, signal) => {
      if (code === 0 || this.stopping) return;
      const how = signal ?? `code ${code}`;
      // A worker whose coordinator stopped the run did not fail: started again, it waits for it.
      const runStopped = code === WORKER_RUN_STOPPED_EXIT_CODE;
      const failed = !runStopped && Date.now() - startedAt < QUICK_EXIT_MS ? failedStarts + 1 : 0;
      if (code === WORKER_REFUSED_EXIT_CODE || failed >= MAX_FAILED_STARTS) {
        const why = code === WORKER_REFUSED_EXIT_CODE ? 'restarting cannot help (the coordinator refused it, or its settings are wrong)' : `it exited ${failed} times in a row within ${QUICK_EXIT_MS / 1000} s of starting`;
        return this.giveUp(`worker process ${id} exited with ${how} and is not restarted: ${why}; its messages above say why`);
      }
      const delay = this.o.restartDelayMs ?? RESTART_DELAY_MS;
      if (runStopped) this.o.log.info(`worker process ${id} left with the stopped run; starting it again in ${delay / 1000} s for the coordinator's return`);
      else this.o.log.warn(`worker process ${id} (pid ${child.pid}) exited with ${how}; starting it again in ${delay / 1000} s`);
      setTimeout(() => {
        if (!this.stopping) this.spawnWorker(i, gpus, failed);
      }, delay);
    });
  }

  private giveUp(reason: string): void {
    if (this.gaveUp) return;
    this.gaveUp = true;
    if (this.o.onGiveUp) this.o.onGiveUp(reason);
    else this.o.log.error(reason);
  }

  /** Waits for the workers to leave after the coordinator's bye; kills those that do not. */
  async stop(): Promise<void> {
    this.stopping = true;
    const running = this.children.filter((child) => child.exitCode === null && child.signalCode === null).length;
    await Promise.all(
      this.children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            const timer = setTimeout(() => child.kill('SIGKILL'), WORKER_EXIT_GRACE_MS);
            child.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
          }),
      ),
    );
    this.o.log.debug(`the ${this.children.length} worker process(es) stopped with the run${running > 0 ? ` (${running} left at its bye)` : ''}`);
  }

  killAll(): void {
    this.stopping = true;
    for (const child of this.children) if (child.exitCode === null) child.kill('SIGTERM');
  }
}

/** GPUs that nvidia-smi lists, 0 when there is no NVIDIA driver. */
function visibleGpuCount(): number {
  try {
    return execFileSync('nvidia-smi', ['-L'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\n')
      .filter((l) => l.startsWith('GPU ')).length;
  } catch {
    return 0;
  }
}

/** Variables of the backend's own that reach the workers as they are (the launcher may set them per worker). */
const BACKEND_VARIABLES = new Set([GPU_INDEX_ENV, ALLOW_SOFTWARE_ADAPTER_ENV]);

/**
 * This process's environment less the DSDC_<FLAG> settings meant for the coordinator: a worker
 * gets its flags from the launcher and its run's settings from the coordinator, and a setting
 * such as DSDC_RESUME would otherwise make it refuse its own command line.
 */
export function workerEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => BACKEND_VARIABLES.has(name) || !isSettingVariable(name)));
}

/**
 * The log level of the launcher's own workers: what they say at info (backend, data, joined, bye)
 * the coordinator's start line and summary already say, so at the default level they report
 * warnings and errors only; --log-level debug shows everything.
 */
export function workerLogLevel(level: string): string {
  return level === 'info' ? 'warn' : level;
}

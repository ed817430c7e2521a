// Starts N worker processes on this machine for `dsdc-dist train --workers N`, one GPU each
// when the tensorflow-gpu backend is in use (CUDA_VISIBLE_DEVICES=i), and stops them at the end.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BackendChoice } from '../backend/index.js';
import type { Logger } from '../log/logger.js';

const CLI_ENTRY = fileURLToPath(new URL('../../bin/dsdc-dist.js', import.meta.url));
export const WORKER_EXIT_GRACE_MS = 15_000;

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
}

export class LocalWorkers {
  private readonly children: ChildProcess[] = [];

  constructor(private readonly o: LocalWorkersOptions) {}

  start(): void {
    const gpus = this.o.backend === 'tensorflow-gpu' || this.o.backend === 'auto' ? visibleGpuCount() : 0;
    for (let i = 0; i < this.o.count; i++) {
      const env: NodeJS.ProcessEnv = { ...process.env, DSDC_TOKEN: this.o.token };
      if (gpus > 0) {
        env.CUDA_VISIBLE_DEVICES = String(i % gpus);
        env.TF_FORCE_GPU_ALLOW_GROWTH ??= 'true';
      }
      const args = [CLI_ENTRY, 'worker', '--coordinator', this.o.url, '--worker-id', `local-${i}`, '--backend', this.o.backend, '--log-level', this.o.logLevel];
      if (this.o.dataDir) args.push('--data-dir', this.o.dataDir);
      if (this.o.tlsCaFile) args.push('--tls-ca', this.o.tlsCaFile);
      const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'inherit', 'inherit'] });
      child.on('exit', (code, signal) => {
        if (code !== 0) this.o.log.warn(`worker process local-${i} (pid ${child.pid}) exited with ${signal ?? `code ${code}`}`);
      });
      this.children.push(child);
    }
    this.o.log.info(`started ${this.o.count} worker process(es)${gpus > 0 ? ` over ${gpus} GPU(s)` : ''}`);
  }

  /** Waits for the workers to leave after the coordinator's bye; kills those that do not. */
  async stop(): Promise<void> {
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
  }

  killAll(): void {
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

// The configurations the benchmark compares, and running one of them once: start the command in
// its own process group, sample its process tree, parse the JSON line it prints last, and name
// each process's role (coordinator, worker i, launcher, helper) for the memory table.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { type SampledProcess, TreeSampler } from './processSampler.js';
import { loadAverage } from './machine.js';

export type ConfigId = 'ours-train-2' | 'peer-2' | 'ours-train-1' | 'peer-1' | 'ours-standalone';
export type System = 'ours' | 'peer';

export interface BenchConfig {
  id: ConfigId;
  label: string;
  system: System;
  workers: number;
}

export const CONFIGS: readonly BenchConfig[] = [
  { id: 'ours-train-2', label: 'dsdc-dist train --workers 2', system: 'ours', workers: 2 },
  { id: 'peer-2', label: 'PyTorch DDP peer, 2 workers', system: 'peer', workers: 2 },
  { id: 'ours-train-1', label: 'dsdc-dist train --workers 1', system: 'ours', workers: 1 },
  { id: 'peer-1', label: 'PyTorch peer, 1 process', system: 'peer', workers: 1 },
  { id: 'ours-standalone', label: 'dsdc-dist worker --standalone', system: 'ours', workers: 1 },
];

export interface RunOptions {
  repoRoot: string;
  steps: number;
  batchSize: number;
  python: string;
  peerScript: string;
  dataDir: string;
  /** Where run directories and stderr logs go. */
  scratchDir: string;
  timeoutMs: number;
  pollMs: number;
}

export interface ProcessPeak {
  role: string;
  pid: number;
  peakRssMiB: number;
  cpuSeconds: number;
}

export interface RunResult {
  config: ConfigId;
  repeat: number;
  ok: boolean;
  error?: string;
  command: string;
  loadAverageAtStart: number;
  wallSeconds: number;
  imagesPerSecond?: number;
  finalLoss?: number;
  bytesPerStep?: number;
  stepTimingsMs?: Record<string, number>;
  device?: string;
  processes: ProcessPeak[];
  foreignCpuShare: number;
  ownCpuShare: number;
  logFile: string;
}

const KILL_GRACE_MS = 10_000;
const STDERR_TAIL_CHARS = 600;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function commandFor(config: BenchConfig, o: RunOptions, runDir: string): Promise<[string, string[]]> {
  if (config.system === 'peer') {
    // --warmup 1: like ours, time from the end of the first step to the end of the last.
    const args = [o.peerScript, '--data-dir', o.dataDir, '--workers', String(config.workers), '--steps', String(o.steps), '--batch-size', String(o.batchSize), '--warmup', '1', '--port', String(await freePort())];
    return [o.python, args];
  }
  const common = ['--backend', 'wasm', '--max-steps', String(o.steps), '--batch-size', String(o.batchSize), '--no-eval', '--run-dir', runDir, '--json', '--log-level', 'warn'];
  const cli = path.join(o.repoRoot, 'bin/dsdc-dist.js');
  if (config.id === 'ours-standalone') return [process.execPath, [cli, 'worker', '--standalone', ...common]];
  return [process.execPath, [cli, 'train', '--workers', String(config.workers), ...common]];
}

/** Names each sampled process by what it does in its system's process layout. */
function rolesOf(config: BenchConfig, rootPid: number, processes: SampledProcess[]): ProcessPeak[] {
  let peerWorker = config.workers === 1 ? 1 : 0;
  return processes.map((p) => {
    let role = 'other';
    if (p.pid === rootPid) {
      if (config.system === 'peer') role = config.workers === 1 ? 'worker 0' : 'launcher';
      else role = config.id === 'ours-standalone' ? 'worker 0' : 'coordinator';
    } else if (config.system === 'ours') {
      const id = p.cmdline.match(/--worker-id\s+local-(\d+)/);
      if (id) role = `worker ${id[1]}`;
    } else if (p.cmdline.includes('spawn_main')) {
      role = `worker ${peerWorker++}`;
    } else if (p.cmdline.includes('resource_tracker')) {
      role = 'helper';
    }
    return { role, pid: p.pid, peakRssMiB: Math.round((p.peakRssKiB / 1024) * 10) / 10, cpuSeconds: Math.round(p.cpuSeconds * 10) / 10 };
  });
}

function lastJsonLine(stdout: string): Record<string, unknown> | undefined {
  for (const line of stdout.trim().split('\n').reverse()) {
    try {
      const value = JSON.parse(line) as unknown;
      if (value && typeof value === 'object') return value as Record<string, unknown>;
    } catch {
      // not the summary line
    }
  }
  return undefined;
}

export async function runOnce(config: BenchConfig, repeat: number, o: RunOptions): Promise<RunResult> {
  const name = `${config.id}-r${repeat}`;
  const runDir = path.join(o.scratchDir, name);
  const logFile = path.join(o.scratchDir, `${name}.log`);
  const [cmd, args] = await commandFor(config, o, runDir);
  const command = [cmd, ...args].join(' ');
  const loadAverageAtStart = loadAverage()[0];
  const started = performance.now();
  const child = spawn(cmd, args, { cwd: o.repoRoot, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const sampler = new TreeSampler(child.pid!, o.pollMs);
  sampler.start();
  let stdout = '';
  let stderrTail = '';
  const log = createWriteStream(logFile);
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => {
    log.write(chunk);
    stderrTail = (stderrTail + chunk.toString()).slice(-STDERR_TAIL_CHARS);
  });
  let timedOut = false;
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal); // the group this run started, and nothing else
    } catch {
      // already gone
    }
  };
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup('SIGTERM');
    setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS).unref();
  }, o.timeoutMs);
  const onInterrupt = () => killGroup('SIGTERM');
  process.once('SIGINT', onInterrupt);
  const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
  clearTimeout(timer);
  process.off('SIGINT', onInterrupt);
  log.end();
  const tree = sampler.stop();
  const wallSeconds = Math.round((performance.now() - started) / 100) / 10;
  const base = { config: config.id, repeat, command, loadAverageAtStart, wallSeconds, processes: rolesOf(config, child.pid!, tree.processes), foreignCpuShare: tree.foreignCpuShare, ownCpuShare: tree.ownCpuShare, logFile };
  const summary = lastJsonLine(stdout);
  if (timedOut || code !== 0 || !summary || typeof summary.images_per_s !== 'number') {
    const why = timedOut ? `timed out after ${o.timeoutMs / 1000} s (--run-timeout)` : code !== 0 ? `exited with code ${code}` : 'printed no JSON summary line';
    return { ...base, ok: false, error: `${why}; stderr tail: ${stderrTail.trim().split('\n').slice(-3).join(' | ')}` };
  }
  return {
    ...base,
    ok: true,
    imagesPerSecond: summary.images_per_s,
    finalLoss: typeof summary.final_loss === 'number' ? summary.final_loss : undefined,
    bytesPerStep: typeof summary.bytes_per_step === 'number' ? summary.bytes_per_step : undefined,
    stepTimingsMs: (summary.step_timings_ms as Record<string, number> | undefined) ?? undefined,
    device: typeof summary.device === 'string' ? summary.device : undefined,
  };
}

// What the benchmark ran on: CPU, cores, memory, versions, the git state of the code under test,
// and whether the PyTorch peer can run at all (torch importable by the chosen Python).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  node: string;
  tfjs: string;
  torch: string | null;
  /** Why the peer cannot run, when torch is null. */
  peerUnavailable: string | null;
  gitCommit: string;
  /** Files under src/ changed but not committed: the numbers measure that working tree. */
  uncommittedSrcFiles: number;
}

export function loadAverage(): [number, number, number] {
  const [one, five, fifteen] = readFileSync('/proc/loadavg', 'utf8').split(' ').map(Number);
  return [one, five, fifteen];
}

function cpuModel(): string {
  const match = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m);
  return match?.[1].trim() ?? os.cpus()[0]?.model ?? 'unknown';
}

function git(args: string[], cwd: string): string {
  try {
    return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

/** torch's version as the peer's Python sees it, or the reason the peer cannot run. */
export function probeTorch(python: string, peerScript: string): { torch: string | null; reason: string | null } {
  if (!existsSync(peerScript)) return { torch: null, reason: `peer script ${peerScript} not found (--peer-script)` };
  if (!existsSync(python)) return { torch: null, reason: `${python} not found (--python)` };
  try {
    const version = execFileSync(python, ['-c', 'import numpy, torch; print(torch.__version__)'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    return { torch: version, reason: null };
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim().split('\n').pop();
    return { torch: null, reason: `${python} cannot import torch/numpy (${stderr || 'unknown error'}); on Debian: apt-get install -y python3-torch python3-numpy` };
  }
}

export function describeMachine(repoRoot: string, python: string, peerScript: string): MachineInfo {
  const require = createRequire(import.meta.url);
  const { torch, reason } = probeTorch(python, peerScript);
  return {
    cpuModel: cpuModel(),
    cores: os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    tfjs: (require('@tensorflow/tfjs/package.json') as { version: string }).version,
    torch,
    peerUnavailable: reason,
    gitCommit: git(['rev-parse', '--short', 'HEAD'], repoRoot) || 'unknown',
    uncommittedSrcFiles: git(['status', '--porcelain', '--', 'src'], repoRoot).split('\n').filter(Boolean).length,
  };
}

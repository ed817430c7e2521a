// Samples one benchmark run's process tree through /proc: every process's peak resident memory
// (VmHWM, the kernel's own high-water mark, so polling every ~200 ms loses nothing but processes
// that live shorter than one poll) and CPU time, plus the whole machine's busy time, so the report
// can say how much of the CPU other people's work took while the run was going. Linux only.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export const DEFAULT_POLL_MS = 200;
const FALLBACK_CLOCK_TICKS_PER_S = 100;

export interface SampledProcess {
  pid: number;
  ppid: number;
  cmdline: string;
  /** VmHWM: the most resident memory the process ever had, in KiB. */
  peakRssKiB: number;
  /** utime + stime at the last sample, in seconds. */
  cpuSeconds: number;
}

export interface TreeSample {
  processes: SampledProcess[];
  /** Share of all the machine's CPU time, during the run, spent outside this process tree (0..1). */
  foreignCpuShare: number;
  /** Share of all the machine's CPU time, during the run, that this process tree used (0..1). */
  ownCpuShare: number;
}

interface StatFields {
  ppid: number;
  startTime: string;
  cpuTicks: number;
}

export const clockTicksPerSecond = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || FALLBACK_CLOCK_TICKS_PER_S;
  } catch {
    return FALLBACK_CLOCK_TICKS_PER_S;
  }
})();

function readProc(pid: number, file: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return undefined; // the process has gone between listing and reading: normal
  }
}

function readStat(pid: number): StatFields | undefined {
  const text = readProc(pid, 'stat');
  if (!text) return undefined;
  // Fields after the command name, which may itself hold spaces and parentheses: state is field 3.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { ppid: Number(f[1]), cpuTicks: Number(f[11]) + Number(f[12]), startTime: f[19] };
}

function readPeakRssKiB(pid: number): number | undefined {
  const match = readProc(pid, 'status')?.match(/^VmHWM:\s+(\d+)\s+kB/m);
  return match ? Number(match[1]) : undefined;
}

/** Busy and total jiffies of all CPUs together, from the first line of /proc/stat. */
function readMachineCpu(): { busy: number; total: number } {
  const [user, nice, system, idle, iowait, irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const busy = user + nice + system + irq + softirq + (steal ?? 0);
  return { busy, total: busy + idle + iowait };
}

export class TreeSampler {
  /** Keyed by pid and start time, so a reused pid is never mistaken for a process we saw. */
  private readonly seen = new Map<string, SampledProcess & { startTime: string }>();
  private timer: NodeJS.Timeout | undefined;
  private machineAtStart = readMachineCpu();

  constructor(
    private readonly rootPid: number,
    private readonly pollMs = DEFAULT_POLL_MS,
  ) {}

  start(): void {
    this.machineAtStart = readMachineCpu();
    this.sample();
    this.timer = setInterval(() => this.sample(), this.pollMs);
  }

  /** Call when the root process has exited (its children may have gone a little earlier). */
  stop(): TreeSample {
    clearInterval(this.timer);
    const machine = readMachineCpu();
    const processes = [...this.seen.values()].map(({ startTime: _, ...p }) => p).sort((a, b) => a.pid - b.pid);
    const totalTicks = machine.total - this.machineAtStart.total;
    const ownTicks = processes.reduce((sum, p) => sum + p.cpuSeconds, 0) * clockTicksPerSecond;
    const busyTicks = machine.busy - this.machineAtStart.busy;
    const share = (ticks: number) => (totalTicks > 0 ? Math.min(1, Math.max(0, ticks / totalTicks)) : 0);
    return { processes, foreignCpuShare: share(busyTicks - ownTicks), ownCpuShare: share(ownTicks) };
  }

  private sample(): void {
    const stats = new Map<number, StatFields>();
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      const stat = readStat(Number(name));
      if (stat) stats.set(Number(name), stat);
    }
    for (const pid of this.treeOf(stats)) {
      const stat = stats.get(pid)!;
      const key = `${pid}:${stat.startTime}`;
      let entry = this.seen.get(key);
      if (!entry) {
        const cmdline = (readProc(pid, 'cmdline') ?? '').split('\0').join(' ').trim();
        entry = { pid, ppid: stat.ppid, cmdline, peakRssKiB: 0, cpuSeconds: 0, startTime: stat.startTime };
        this.seen.set(key, entry);
      }
      entry.peakRssKiB = Math.max(entry.peakRssKiB, readPeakRssKiB(pid) ?? 0);
      entry.cpuSeconds = stat.cpuTicks / clockTicksPerSecond;
    }
  }

  /** The root, its descendants, and any process seen before that was re-parented away since. */
  private treeOf(stats: Map<number, StatFields>): number[] {
    const children = new Map<number, number[]>();
    for (const [pid, s] of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), pid]);
    const tree = new Set<number>();
    const queue = stats.has(this.rootPid) ? [this.rootPid] : [];
    while (queue.length > 0) {
      const pid = queue.pop()!;
      tree.add(pid);
      queue.push(...(children.get(pid) ?? []));
    }
    for (const p of this.seen.values()) if (stats.get(p.pid)?.startTime === p.startTime) tree.add(p.pid);
    return [...tree];
  }
}

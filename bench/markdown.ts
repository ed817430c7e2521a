// Renders the benchmark report as the Markdown section BENCHMARKS.md keeps between the
// bench markers, and splices it into the file without touching the sections others own.
import { CONFIGS, type BenchConfig, type ConfigId, type RunResult } from './runners.js';
import type { ConfigFigures, DerivedFigures } from './figures.js';
import type { MachineInfo } from './machine.js';

export const SECTION_START = '<!-- bench:start -->';
export const SECTION_END = '<!-- bench:end -->';
const NOISY_SPREAD = 0.1;
const NOISY_FOREIGN_SHARE = 0.1;
const PHASES = ['compute', 'encode', 'transfer', 'wait_for_slowest', 'aggregate', 'apply', 'broadcast', 'total'];

export interface BenchReport {
  command: string;
  steps: number;
  repeats: number;
  batchSize: number;
  startedAt: string;
  minutes: number;
  loadAtStart: number[];
  loadAtEnd: number[];
  machine: MachineInfo;
  python: string;
  configs: ConfigId[];
  results: RunResult[];
  figures: Partial<Record<ConfigId, ConfigFigures>>;
  derived: DerivedFigures;
}

const num = (v: number | undefined, digits = 1) => (v === undefined ? '—' : v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }));
const times = (v: number | undefined) => (v === undefined ? '—' : `${v.toFixed(2)}×`);
const pct = (v: number | undefined) => (v === undefined ? '—' : `${(100 * v).toFixed(0)}%`);
const configOf = (id: ConfigId): BenchConfig => CONFIGS.find((c) => c.id === id)!;

/** A Markdown table whose first `textColumns` columns are left-aligned and the rest, numbers, right-aligned. */
function table(header: string[], rows: string[][], textColumns = 1): string {
  const align = header.map((_, i) => (i < textColumns ? '---' : '---:'));
  return [`| ${header.join(' | ')} |`, `|${align.join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

function processesOf(c: BenchConfig): string {
  if (c.system === 'peer') return c.workers === 1 ? '1 (2 threads)' : `launcher + ${c.workers} workers (1 thread each)`;
  return c.id === 'ours-standalone' ? '1 (wasm, 1 thread)' : c.workers === 1 ? 'coordinator + 1 worker (wasm, 1 thread)' : `coordinator + ${c.workers} workers (wasm, 1 thread each)`;
}

function throughputTable(r: BenchReport): string {
  const peerOf = (c: BenchConfig) => r.figures[c.workers === 2 ? 'peer-2' : 'peer-1']?.imagesPerSecond;
  const rows = r.configs.map((id) => {
    const c = configOf(id);
    const f = r.figures[id];
    const ratio = c.system === 'ours' && f?.imagesPerSecond !== undefined && peerOf(c) ? times(f.imagesPerSecond / peerOf(c)!) : c.system === 'peer' ? '1.00×' : '—';
    const runs = f && f.runs > 0 ? f.imagesPerSecondAll.map((v) => num(v)).join(', ') : '—';
    const failed = f && f.failed > 0 ? ` (${f.failed} failed)` : '';
    return [c.label, processesOf(c), `**${num(f?.imagesPerSecond)}**`, runs + failed, ratio, num(f?.finalLoss, 3), pct(f?.foreignCpuShare), num(f?.wallSeconds, 0)];
  });
  return table(['configuration', 'processes', 'images/s', 'each run', `÷ peer, same workers`, 'final loss', "others' CPU", 'wall s'], rows, 2);
}

function sideBySide(r: BenchReport): string {
  const f = r.figures;
  const d = r.derived;
  const ours2 = f['ours-train-2'];
  const peer2 = f['peer-2'];
  const ratio = (a?: number, b?: number) => (a !== undefined && b ? times(a / b) : '—');
  const paired = (v: number | undefined, each: number[]) => (each.length > 1 ? `${times(v)} (each repeat: ${each.map(times).join(', ')})` : times(v));
  const overhead = d.coordinatorOverheadShare !== undefined ? `${pct(d.coordinatorOverheadShare)} (${num(ours2?.stepTimingsMs.aggregate)} + ${num(ours2?.stepTimingsMs.apply)} + ${num(ours2?.stepTimingsMs.broadcast)} of ${num(ours2?.stepTimingsMs.total)} ms)` : '—';
  const rows = [
    ['images/s, 2 workers', num(ours2?.imagesPerSecond), num(peer2?.imagesPerSecond), paired(d.ratioToPeer2, d.ratioToPeer2EachRepeat)],
    ['images/s, 1 worker', num(f['ours-train-1']?.imagesPerSecond), num(f['peer-1']?.imagesPerSecond), paired(d.ratioToPeer1, d.ratioToPeer1EachRepeat)],
    ['images/s, one process, no coordinator', num(f['ours-standalone']?.imagesPerSecond), num(f['peer-1']?.imagesPerSecond), ratio(f['ours-standalone']?.imagesPerSecond, f['peer-1']?.imagesPerSecond)],
    ['speed-up 1 → 2 workers (throughput₂ ÷ throughput₁)', times(d.oursSpeedup), times(d.peerSpeedup), ratio(d.oursSpeedup, d.peerSpeedup)],
    ['scaling efficiency (speed-up ÷ 2)', pct(d.oursScalingEfficiency), pct(d.peerScalingEfficiency), '—'],
    ['bytes on the wire per step, 2 workers', `${num(ours2?.bytesPerStep, 0)} (measured)`, `${num(d.peerBytesPerStepEstimate, 0)} (computed)`, ratio(ours2?.bytesPerStep, d.peerBytesPerStepEstimate)],
    ['coordinator share of step time, 2 workers: (aggregate + apply + broadcast) ÷ total', overhead, 'no coordinator (all-reduce inside backward)', '—'],
    ['peak RSS of all processes, 2 workers (MiB)', num(ours2?.peakRssTotalMiB, 0), num(peer2?.peakRssTotalMiB, 0), ratio(ours2?.peakRssTotalMiB, peer2?.peakRssTotalMiB)],
    ['CPU seconds, all processes, whole run with start-up, 2 workers', num(ours2?.cpuSeconds), num(peer2?.cpuSeconds), ratio(ours2?.cpuSeconds, peer2?.cpuSeconds)],
  ];
  return table(['figure', 'dsdc-dist', 'PyTorch DDP peer', 'dsdc-dist ÷ peer'], rows);
}

function phaseTable(r: BenchReport): string {
  const ours = r.configs.filter((id) => configOf(id).system === 'ours');
  const total2 = r.figures['ours-train-2']?.stepTimingsMs.total;
  const header = ['phase (ms per step)', ...ours.map((id) => configOf(id).label.replace('dsdc-dist ', ''))];
  if (total2) header.push('share of total, 2 workers');
  const rows = PHASES.map((phase) => {
    const cells = ours.map((id) => {
      const v = r.figures[id]?.stepTimingsMs[phase];
      return v === undefined ? '—' : phase === 'total' ? `**${num(v)}**` : num(v);
    });
    if (total2) cells.push(pct((r.figures['ours-train-2']?.stepTimingsMs[phase] ?? NaN) / total2).replace('NaN%', '—'));
    return [phase, ...cells];
  });
  return table(header, rows);
}

function memoryTable(r: BenchReport): string {
  const rows = r.configs.map((id) => {
    const rss = r.figures[id]?.peakRssMiB ?? {};
    const first = rss.coordinator ?? rss.launcher;
    const firstCell = first === undefined ? '—' : `${num(first, 0)} (${rss.coordinator !== undefined ? 'coordinator' : 'launcher'})`;
    const helpers = Object.entries(rss).filter(([role]) => role === 'helper' || role === 'other').reduce((s, [, v]) => s + v, 0);
    return [configOf(id).label, firstCell, num(rss['worker 0'], 0), num(rss['worker 1'], 0), helpers > 0 ? num(helpers, 0) : '—', num(r.figures[id]?.peakRssTotalMiB, 0)];
  });
  return table(['configuration', 'coordinator / launcher', 'worker 0', 'worker 1', 'helpers', 'all processes'], rows);
}

function notes(r: BenchReport): string[] {
  const out: string[] = [];
  if (!r.machine.torch) out.push(`**The peer did not run:** ${r.machine.peerUnavailable}`);
  for (const id of r.configs) {
    const f = r.figures[id];
    if (!f) continue;
    for (const e of f.errors) out.push(`**${configOf(id).label} failed** (${e})`);
    const values = f.imagesPerSecondAll;
    if (values.length > 1 && f.imagesPerSecond) {
      const spread = (Math.max(...values) - Math.min(...values)) / f.imagesPerSecond;
      if (spread > NOISY_SPREAD) out.push(`${configOf(id).label}: the repeats differ by ${pct(spread)} of the median: noisy.`);
    }
  }
  const foreign = r.results.map((x) => x.foreignCpuShare);
  const worst = Math.max(0, ...foreign);
  if (worst > NOISY_FOREIGN_SHARE) out.push(`Other work on the machine took up to ${pct(worst)} of all CPU time during a run (median ${pct(medianShare(foreign))}); absolute figures are pessimistic, ratios between neighbouring runs less so.`);
  if (r.machine.uncommittedSrcFiles > 0) out.push(`The code measured had ${r.machine.uncommittedSrcFiles} uncommitted file(s) under src/ on top of commit ${r.machine.gitCommit}.`);
  return out;
}

const medianShare = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] ?? 0;

export function renderSection(r: BenchReport): string {
  const m = r.machine;
  const load = (l: number[]) => l.map((v) => v.toFixed(2)).join(' / ');
  const device = Object.values(r.figures).find((f) => f?.device)?.device ?? 'wasm';
  const order = r.configs.map((id) => `\`${id}\``).join(', ');
  const noteLines = notes(r);
  return [
    SECTION_START,
    '## Throughput and memory against the PyTorch DDP peer',
    '',
    `_Written by \`npm run bench\` (bench/run.ts); edits between the bench markers are overwritten. Raw results: bench/results/latest.json._`,
    '',
    `Command: \`${r.command}\``,
    '',
    table(['run', 'on'], [
      ['date', `${r.startedAt} (the bench took ${r.minutes.toFixed(1)} min)`],
      ['CPU', `${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB memory, ${m.kernel}`],
      ['dsdc-dist', `Node ${m.node}, TensorFlow.js ${m.tfjs}, ${device}; commit ${m.gitCommit}${m.uncommittedSrcFiles ? ` + ${m.uncommittedSrcFiles} uncommitted src/ files` : ''}`],
      ['peer', m.torch ? `PyTorch ${m.torch} (${r.python}), DistributedDataParallel over gloo, CPU` : `not run: ${m.peerUnavailable}`],
      ['load average (1 / 5 / 15 min)', `${load(r.loadAtStart)} at start, ${load(r.loadAtEnd)} at the end`],
    ], 2),
    '',
    `Method: the same DSDC-Net (35,722 parameters), global batch ${r.batchSize} split across the workers, ${r.steps} steps per run, ` +
      `each configuration run ${r.repeats}× interleaved (order ${order}, reversed on every other repeat); every figure is the median over the repeats. ` +
      `images/s counts the wall clock from the end of step 1 to the end of step ${r.steps} (${r.steps - 1} steps) in both systems: ` +
      `dsdc-dist excludes its first step, and the peer runs with \`--warmup 1\`; process start-up, module loading and reading MNIST fall outside that window. ` +
      `"Others' CPU" is the share of the machine's CPU time during the run used by processes outside the run's own tree (from /proc/stat). ` +
      `Peak RSS is each process's VmHWM, polled from /proc every 200 ms over the run's whole process tree.`,
    '',
    '### Throughput',
    '',
    throughputTable(r),
    '',
    '### Side by side',
    '',
    sideBySide(r),
    '',
    '### Where a dsdc-dist step goes (ms per step, mean over the timed steps)',
    '',
    phaseTable(r),
    '',
    '### Peak resident memory (MiB, VmHWM per process)',
    '',
    memoryTable(r),
    ...(noteLines.length > 0 ? ['', '### Notes from this run', '', ...noteLines.map((n) => `- ${n}`)] : []),
    SECTION_END,
  ].join('\n');
}

/** Replaces the bench section of BENCHMARKS.md, or adds it, leaving every other section as it was. */
export function spliceSection(existing: string | undefined, section: string): string {
  if (existing === undefined || existing.trim() === '') return `# Benchmarks\n\n${section}\n`;
  const start = existing.indexOf(SECTION_START);
  const end = existing.indexOf(SECTION_END, start);
  if (start >= 0 && end > start) return existing.slice(0, start) + section + existing.slice(end + SECTION_END.length);
  return `${existing.trimEnd()}\n\n${section}\n`;
}

// `npm run bench:coordinator`: the coordinator's per-step cost against the number of real worker
// processes on this machine. Each run is `dsdc-dist train --workers N` with a tiny per-worker
// batch (the workers are not the subject) and no evaluation; its metrics.jsonl gives the
// coordinator's step phases (aggregate: decode and average N gradient sets; apply: Adam; broadcast:
// encode once, send N times) and the bytes of each step, and /proc gives the coordinator's peak
// resident memory and its CPU time per step (what the model fits: on a loaded machine the phase
// timings also count the time the process waited for a core). Prints a markdown table, the fit a + b·N of the CPU part and its extrapolation to
// 64 and 256 members on 10 and 100 GbE (bench/coordinatorModel.ts), and writes the raw figures to
// bench/results/coordinator-scaling.json.
//
// Flags (npm run bench:coordinator -- --flag value):
//   --workers 1,2,4,8,16   worker counts, float32 (default 1,2,4,8,16)
//   --reduced-at N         also run float16 and bfloat16 at this worker count (default 8; 0: no)
//   --per-worker B         examples per worker per step (default 4)
//   --steps S              steps per run; the first --warmup are left out (default 16)
//   --warmup W             (default 4)
//   --run-timeout S        seconds before one run is killed (default 900)
//   --json-out FILE        (default bench/results/coordinator-scaling.json)
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseMetricsLog } from '../src/report/runRecords.js';
import { METRICS_FILE, type StepLine } from '../src/schemas/metricsRecord.js';
import { coordinatorStepCost, fitLine, type LinearFit } from './coordinatorModel.js';
import { loadAverage } from './machine.js';
import { clockTicksPerSecond, TreeSampler } from './processSampler.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(REPO_ROOT, 'bin', 'dsdc-dist.js');
const GBE = 1e9;
const EXTRAPOLATED_MEMBERS = [64, 256];
const LINKS = [10 * GBE, 100 * GBE];
/** Workers per host behind a relay, for the relay rows of the extrapolation. */
const WORKERS_PER_RELAY = 8;
const CPU_POLL_MS = 100;

const { values: flags } = parseArgs({
  options: {
    workers: { type: 'string', default: '1,2,4,8,16' },
    'reduced-at': { type: 'string', default: '8' },
    'per-worker': { type: 'string', default: '4' },
    steps: { type: 'string', default: '16' },
    warmup: { type: 'string', default: '4' },
    'run-timeout': { type: 'string', default: '900' },
    'json-out': { type: 'string', default: 'bench/results/coordinator-scaling.json' },
  },
});

function count(flag: string, text: string, min = 1): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new Error(`--${flag} must be an integer ≥ ${min}, got '${text}'`);
  return value;
}

const workerCounts = flags.workers.split(',').map((w) => count('workers', w.trim()));
const reducedAt = count('reduced-at', flags['reduced-at'], 0);
const perWorker = count('per-worker', flags['per-worker']);
const steps = count('steps', flags.steps, 2);
const warmup = count('warmup', flags.warmup, 0);
if (warmup >= steps) throw new Error(`--warmup (${warmup}) must be below --steps (${steps})`);
const runTimeoutMs = 1000 * count('run-timeout', flags['run-timeout']);

interface Measured {
  workers: number;
  dtype: string;
  /** Medians over the measured steps, ms. */
  aggregateMs: number;
  applyMs: number;
  broadcastMs: number;
  totalMs: number;
  /** Bytes on the coordinator's link per step: gradient frames in plus weight frames out. */
  bytesPerStep: number;
  /** One worker's gradient frame (≈ its weights frame). */
  frameBytes: number;
  /**
   * The coordinator process's CPU time per step (utime + stime from /proc between the end of the
   * warm-up and the last step): unlike the phase timings, it does not count time the process
   * waited for a core on a loaded machine.
   */
  coordinatorCpuMsPerStep: number | null;
  coordinatorPeakRssMiB: number;
  workerPeakRssMiB: number;
  wallS: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function measure(workers: number, dtype: string): Promise<Measured> {
  const runDir = mkdtempSync(path.join(os.tmpdir(), 'dsdc-coordinator-scaling-'));
  const batch = workers * perWorker;
  const args = [
    'train', '--workers', String(workers), '--backend', 'wasm', '--batch-size', String(batch), '--max-steps', String(steps),
    '--train-limit', String(Math.max(batch * steps, 256)), '--no-eval', '--wire-dtype', dtype, '--log-level', 'warn', '--json', '--run-dir', runDir,
    // Tiny batches give noisy gradient norms; the bound is not the subject here.
    '--grad-norm-bound', '0',
  ];
  const started = performance.now();
  const child = spawn(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const sampler = new TreeSampler(child.pid!);
  sampler.start();
  const cpuAtStep = sampleCpuAgainstSteps(child.pid!, path.join(runDir, 'metrics.jsonl'));
  let stderr = '';
  child.stdout.resume();
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  const timer = setTimeout(() => child.kill('SIGKILL'), runTimeoutMs);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearTimeout(timer);
  const tree = sampler.stop();
  const cpuSamples = cpuAtStep.stop();
  try {
    if (code !== 0) throw new Error(`train --workers ${workers} --wire-dtype ${dtype} exited with ${code}:\n${stderr}`);
    const records = parseMetricsLog(readFileSync(path.join(runDir, METRICS_FILE), 'utf8')).steps.slice(warmup);
    const phase = (name: keyof StepLine['timings_ms']) => median(records.map((r) => r.timings_ms[name] ?? 0));
    const bytesPerStep = median(records.map((r) => r.bytes));
    const coordinator = tree.processes.find((p) => p.pid === child.pid);
    const workerProcesses = tree.processes.filter((p) => p.pid !== child.pid && / worker /.test(` ${p.cmdline} `));
    return {
      workers,
      dtype,
      aggregateMs: phase('aggregate'),
      applyMs: phase('apply'),
      broadcastMs: phase('broadcast'),
      totalMs: phase('total'),
      bytesPerStep,
      frameBytes: bytesPerStep / (2 * workers),
      coordinatorCpuMsPerStep: cpuPerStep(cpuSamples),
      coordinatorPeakRssMiB: (coordinator?.peakRssKiB ?? 0) / 1024,
      workerPeakRssMiB: workerProcesses.length ? median(workerProcesses.map((p) => p.peakRssKiB)) / 1024 : 0,
      wallS: (performance.now() - started) / 1000,
    };
  } finally {
    rmSync(runDir, { recursive: true, force: true });
  }
}

interface CpuSample {
  steps: number;
  cpuTicks: number;
}

/** Every ~100 ms: steps recorded so far in metrics.jsonl and the process's CPU ticks. */
function sampleCpuAgainstSteps(pid: number, metricsFile: string): { stop: () => CpuSample[] } {
  const samples: CpuSample[] = [];
  const timer = setInterval(() => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cpuTicks = Number(fields[11]) + Number(fields[12]);
      const steps = readFileSync(metricsFile, 'utf8').split('\n').filter((l) => l.includes('"type":"step"')).length;
      samples.push({ steps, cpuTicks });
    } catch {
      // not started yet, or gone: no sample
    }
  }, CPU_POLL_MS);
  return { stop: () => (clearInterval(timer), samples) };
}

/** CPU ms per step from the first sample past the warm-up to the last one before the final step. */
function cpuPerStep(samples: CpuSample[]): number | null {
  const from = samples.find((s) => s.steps >= warmup && s.steps > 0);
  const to = [...samples].reverse().find((s) => s.steps < steps);
  if (!from || !to || to.steps <= from.steps) return null;
  return ((to.cpuTicks - from.cpuTicks) / clockTicksPerSecond) * 1000 / (to.steps - from.steps);
}

const phasesMs = (m: Measured) => m.aggregateMs + m.applyMs + m.broadcastMs;
const f = (x: number, digits = 1) => x.toFixed(digits);

function measuredTable(rows: Measured[]): string {
  const lines = [
    '| N | wire | aggregate ms | Adam ms | broadcast ms | phases ms | coordinator CPU ms/step | step ms | bytes/step (in + out) | coordinator peak RSS MiB | worker peak RSS MiB |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const m of rows) {
    lines.push(`| ${m.workers} | ${m.dtype} | ${f(m.aggregateMs, 2)} | ${f(m.applyMs, 2)} | ${f(m.broadcastMs, 2)} | ${f(phasesMs(m), 2)} | ${m.coordinatorCpuMsPerStep === null ? '–' : f(m.coordinatorCpuMsPerStep)} | ${f(m.totalMs)} | ${Math.round(m.bytesPerStep).toLocaleString('en-US')} | ${f(m.coordinatorPeakRssMiB, 0)} | ${f(m.workerPeakRssMiB, 0)} |`);
  }
  return lines.join('\n');
}

function extrapolationTable(fit: LinearFit, frameBytes: number): string {
  const lines = ['| members | wire | link | CPU ms (a + b·N) | link ms (2·bytes·N / bandwidth) | total ms | dominant |', '|---|---|---|---:|---:|---:|---|'];
  const cases = [
    ...EXTRAPOLATED_MEMBERS.map((n) => ({ label: `${n} workers`, members: n, dtype: 'float32', bytes: frameBytes })),
    ...EXTRAPOLATED_MEMBERS.map((n) => ({ label: `${n} workers`, members: n, dtype: '16-bit', bytes: frameBytes / 2 })),
    ...EXTRAPOLATED_MEMBERS.map((n) => ({ label: `${n} workers, ${WORKERS_PER_RELAY} per relay (${n / WORKERS_PER_RELAY} hosts)`, members: n / WORKERS_PER_RELAY, dtype: 'float32', bytes: frameBytes })),
  ];
  for (const c of cases) {
    for (const link of LINKS) {
      const cost = coordinatorStepCost({ fit, frameBytes: c.bytes, members: c.members, linkBitsPerSecond: link });
      lines.push(`| ${c.label} | ${c.dtype} | ${link / GBE} GbE | ${f(cost.cpuMs)} | ${f(cost.linkMs)} | ${f(cost.totalMs)} | ${cost.dominant} |`);
    }
  }
  return lines.join('\n');
}

const load = loadAverage();
console.error(`coordinator scaling: N = ${workerCounts.join(', ')}, ${perWorker} examples per worker, ${steps} steps (${warmup} warm-up), load ${load.join(' ')}`);
const rows: Measured[] = [];
const plan = [...workerCounts.map((n) => ({ n, dtype: 'float32' })), ...(reducedAt > 0 ? ['float16', 'bfloat16'].map((dtype) => ({ n: reducedAt, dtype })) : [])];
for (const { n, dtype } of plan) {
  console.error(`  N = ${n}, ${dtype}: free memory ${f(os.freemem() / 2 ** 30)} GiB`);
  try {
    const m = await measure(n, dtype);
    rows.push(m);
    console.error(`    phases ${f(phasesMs(m), 2)} ms/step, coordinator CPU ${m.coordinatorCpuMsPerStep === null ? '–' : f(m.coordinatorCpuMsPerStep)} ms/step, ${Math.round(m.bytesPerStep)} B/step, RSS ${f(m.coordinatorPeakRssMiB, 0)} MiB, ${f(m.wallS, 0)} s`);
  } catch (error) {
    console.error(`    failed: ${(error as Error).message.slice(0, 2000)}`);
  }
}
const float32Rows = rows.filter((r) => r.dtype === 'float32');
const phaseFit = fitLine(float32Rows.map((m) => ({ x: m.workers, y: phasesMs(m) })));
// The process's CPU time is the better model input on a loaded machine (waiting for a core is not cost); the phases are the fallback.
const cpuRows = float32Rows.filter((m) => m.coordinatorCpuMsPerStep !== null);
const cpuFit = cpuRows.length >= 2 ? fitLine(cpuRows.map((m) => ({ x: m.workers, y: m.coordinatorCpuMsPerStep! }))) : null;
const fit = cpuFit ?? phaseFit;
const frameBytes = median(float32Rows.map((m) => m.frameBytes));
const report = [
  `Measured (${new Date().toISOString().slice(0, 10)}, ${os.cpus().length}-core machine, load ${load.join(' ')} at the start; medians of steps ${warmup + 1}-${steps}):`,
  '',
  measuredTable(rows),
  '',
  `Fit of the step phases aggregate + Adam + broadcast (float32, wall clock): a = ${f(phaseFit.a, 2)} ms, b = ${f(phaseFit.b, 3)} ms per worker.`,
  cpuFit ? `Fit of the coordinator's CPU time per step (float32): a = ${f(cpuFit.a, 2)} ms, b = ${f(cpuFit.b, 3)} ms per worker (used below).` : 'No CPU-time fit (too few samples): the phase fit is used below.',
  `One worker's frame: ${Math.round(frameBytes).toLocaleString('en-US')} bytes each way.`,
  '',
  extrapolationTable(fit, frameBytes),
].join('\n');
console.log(report);
mkdirSync(path.dirname(path.resolve(REPO_ROOT, flags['json-out'])), { recursive: true });
writeFileSync(path.resolve(REPO_ROOT, flags['json-out']), `${JSON.stringify({ date: new Date().toISOString(), load, perWorker, steps, warmup, rows, phaseFit, cpuFit, frameBytes }, null, 2)}\n`);

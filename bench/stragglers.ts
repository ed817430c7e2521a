// Where the 2-worker step's `wait_for_slowest` comes from: runs `train --workers 2` at debug
// level, pairs each step's coordinator record (metrics.jsonl) with the two workers' own compute
// times (their debug lines), and splits the wait into the workers' compute spread and the rest
// (transfer and scheduling on the shared cores). Prints Markdown.
// `npm run bench:stragglers -- --steps 200` (default 200 steps of global batch 128).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseMetricsLog } from '../src/report/runRecords.js';
import { METRICS_FILE } from '../src/schemas/metricsRecord.js';
import { loadAverage } from './machine.js';

const CLI = fileURLToPath(new URL('../bin/dsdc-dist.js', import.meta.url));
/** The first steps (the kernels' first calls, the connections) are left out. */
const WARMUP_STEPS = 5;
const WORKER_STEP_LINE = /\[worker (local-\d+)\] step (\d+): \d+ examples, loss [\d.]+, compute ([\d.]+) ms/;

const { values: flags } = parseArgs({ options: { steps: { type: 'string', default: '200' }, 'batch-size': { type: 'string', default: '128' } } });
const steps = Number(flags.steps);
const batchSize = Number(flags['batch-size']);
if (!(Number.isInteger(steps) && steps > WARMUP_STEPS)) throw new Error(`--steps must be an integer above ${WARMUP_STEPS}, got ${flags.steps}`);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
function correlation(xs: number[], ys: number[]): number {
  const mx = mean(xs);
  const my = mean(ys);
  const cov = mean(xs.map((x, i) => (x - mx) * (ys[i] - my)));
  const sd = (vs: number[], m: number) => Math.sqrt(mean(vs.map((v) => (v - m) ** 2)));
  return cov / (sd(xs, mx) * sd(ys, my));
}

const runDir = mkdtempSync(join(tmpdir(), 'dsdc-stragglers-'));
const startedAt = new Date();
const loadAtStart = loadAverage();
const args = ['train', '--workers', '2', '--backend', 'wasm', '--max-steps', String(steps), '--batch-size', String(batchSize), '--no-eval', '--seed', '1', '--log-level', 'debug', '--progress', 'none', '--run-dir', join(runDir, 'run'), '--json'];
const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
let stderr = '';
child.stderr.on('data', (d) => (stderr += d));
child.stdout.resume();
const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
if (code !== 0) throw new Error(`train exited with ${code}:\n${stderr.slice(-3000)}`);

const computeOf = new Map<number, Map<string, number>>();
for (const line of stderr.split('\n')) {
  const m = line.match(WORKER_STEP_LINE);
  if (!m) continue;
  const step = Number(m[2]);
  if (!computeOf.has(step)) computeOf.set(step, new Map());
  computeOf.get(step)!.set(m[1], Number(m[3]));
}
const records = parseMetricsLog(readFileSync(join(runDir, 'run', METRICS_FILE), 'utf8')).steps.filter((r) => r.step > WARMUP_STEPS && computeOf.get(r.step)?.size === 2);
rmSync(runDir, { recursive: true, force: true });
if (records.length === 0) throw new Error('no step had both workers\' compute lines: did the worker debug line change?');

const wait = records.map((r) => r.timings_ms.wait_for_slowest ?? 0);
const total = records.map((r) => r.timings_ms.total ?? 0);
const spread = records.map((r) => {
  const [a, b] = [...computeOf.get(r.step)!.values()];
  return Math.abs(a - b);
});
const computes = records.flatMap((r) => [...computeOf.get(r.step)!.values()]);
const rest = wait.map((w, i) => w - spread[i]);
const f = (v: number, d = 1) => v.toFixed(d);
console.log(`\`npm run bench:stragglers -- --steps ${steps} --batch-size ${batchSize}\`, ${startedAt.toISOString()}, ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, load average ${loadAtStart.join(' / ')} at start; steps ${WARMUP_STEPS + 1}-${steps} with both workers' debug lines (${records.length} steps), global batch ${batchSize}.\n`);
console.log('| figure | mean ms | median ms | share of the mean step |');
console.log('|---|---:|---:|---:|');
console.log(`| step (coordinator's total) | ${f(mean(total))} | ${f(median(total))} | 100% |`);
console.log(`| wait_for_slowest (spread of the two round trips) | ${f(mean(wait))} | ${f(median(wait))} | ${f((100 * mean(wait)) / mean(total), 0)}% |`);
console.log(`| spread of the two workers' compute (the larger less the smaller) | ${f(mean(spread))} | ${f(median(spread))} | ${f((100 * mean(spread)) / mean(total), 0)}% |`);
console.log(`| the rest of the wait (transfer, decoding, scheduling) | ${f(mean(rest))} | ${f(median(rest))} | ${f((100 * mean(rest)) / mean(total), 0)}% |`);
const sd = Math.sqrt(mean(computes.map((c) => (c - mean(computes)) ** 2)));
console.log(`\nOne worker's compute: mean ${f(mean(computes))} ms, standard deviation ${f(sd)} ms (${f((100 * sd) / mean(computes))}%); correlation of wait_for_slowest with the compute spread: ${f(correlation(wait, spread), 2)}.`);

// Step time across a network: the real coordinator and two workers in netlab hosts, the
// coordinator's link shaped to each RTT and bandwidth in turn, and the step-time model
// (bench/networkModel.ts) fitted to the runs. Prints Markdown (a table and the model) for
// docs/scaling.md. Needs root (network namespaces). `npm run bench:network -- --steps 30`.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetLab, netlabImpairment, netlabSupport } from '../tools/netlab/index.js';
import { runTrainingInLab } from '../tools/netlab/trainingRun.js';
import { parseMetricsLog } from '../src/report/runRecords.js';
import { METRICS_FILE } from '../src/schemas/metricsRecord.js';
import { fitStepModel, predictStepMs, type NetworkPoint } from './networkModel.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 && args[at + 1] !== undefined ? args[at + 1] : fallback;
};
const STEPS = Number(option('steps', '30'));
const RTTS = option('rtts', '0,10,20,50').split(',').map(Number);
const RATES = option('rates', '1000,100,20').split(',').map(Number);
/** The first steps (connections, the wasm kernels' first calls) are left out of the means. */
const WARMUP_STEPS = 3;
const WORKERS = ['w-a', 'w-b'];
const PORT = 7070;
/** A model with many weights for its arithmetic, so that the network's share of a step shows. */
const RUN_FLAGS = [
  '--backend', 'wasm', '--train-limit', '512', '--batch-size', '8', '--no-eval', '--log-level', 'warn', '--json',
  '--widths', '64,256', '--dilations', '1,2', '--pool-after', '1', '--stem-filters', '16', '--max-steps', String(STEPS),
];

interface Measured extends NetworkPoint {
  label: string;
  /** Median whole step, and the workers' median compute within it. */
  totalMs: number;
  computeMs: number;
}

async function measure(lab: NetLab, label: string, rttMs: number, rateMbit: number | undefined): Promise<Measured> {
  // The coordinator's link carries every worker's traffic: its delay is each direction's half of the RTT.
  await lab.shape('coordinator', { delayMs: rttMs / 2, ...(rateMbit === undefined ? {} : { rateMbit }) });
  const runDir = mkdtempSync(join(tmpdir(), 'dsdc-bench-network-'));
  try {
    const result = await runTrainingInLab(lab, {
      coordinatorHost: 'coordinator', workerHosts: WORKERS, port: PORT, token: randomBytes(24).toString('hex'),
      coordinatorFlags: [...RUN_FLAGS, '--run-dir', join(runDir, 'run')], workerFlags: ['--backend', 'wasm', '--log-level', 'warn'],
      onLine: (host, line) => (/error|fatal/i.test(line) ? process.stderr.write(`[${host}] ${line}\n`) : undefined),
    });
    if (result.coordinatorCode !== 0) throw new Error(`${label}: the coordinator exited with ${result.coordinatorCode}`);
    const steps = parseMetricsLog(readFileSync(join(runDir, 'run', METRICS_FILE), 'utf8')).steps.slice(WARMUP_STEPS);
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    // The median: on a shared machine a few steps wait for the CPU, not for the network.
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    // The model is fitted to the step less the workers' compute: compute on this shared machine varies
    // more from step to step than the network terms do.
    return {
      label, rttMs, rateMbit,
      totalMs: median(steps.map((s) => s.timings_ms.total ?? 0)),
      computeMs: median(steps.map((s) => s.timings_ms.compute)),
      stepMs: median(steps.map((s) => (s.timings_ms.total ?? 0) - s.timings_ms.compute)),
      bytesPerStep: mean(steps.map((s) => s.bytes)),
    };
  } finally {
    rmSync(runDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const support = netlabSupport();
  if (!support.ok) throw new Error(`bench:network needs netlab: ${support.reason}`);
  const started = new Date();
  const lab = await NetLab.create({ prefix: 'nlbench' });
  const points: Measured[] = [];
  try {
    await lab.addHost('coordinator');
    for (const worker of WORKERS) await lab.addHost(worker);
    for (const rtt of RTTS) points.push(await measure(lab, `RTT ${rtt} ms`, rtt, undefined));
    for (const rate of RATES) points.push(await measure(lab, `${rate} Mbit/s`, 0, rate));
  } finally {
    await lab.destroy();
  }
  const model = fitStepModel(points);
  const lines = [
    `Measured ${started.toISOString().slice(0, 16)}Z with \`npm run bench:network -- --steps ${STEPS}\` (delay, loss: ${netlabImpairment()}; `,
    `${STEPS} steps each, the median of all but the first ${WARMUP_STEPS}; 2 workers, batch 8, model ${RUN_FLAGS.slice(RUN_FLAGS.indexOf('--widths'), RUN_FLAGS.indexOf('--max-steps')).join(' ')}).`,
    '',
    '| coordinator link | RTT (ms) | bandwidth (Mbit/s) | bytes per step | step (ms) | compute (ms) | step − compute (ms) | model (ms) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...points.map((p) => `| ${p.label} | ${p.rttMs} | ${p.rateMbit ?? 'unlimited'} | ${Math.round(p.bytesPerStep)} | ${p.totalMs.toFixed(1)} | ${p.computeMs.toFixed(1)} | ${p.stepMs.toFixed(1)} | ${predictStepMs(model, p).toFixed(1)} |`),
    '',
    `Fitted: step = compute + ${model.baseMs.toFixed(1)} ms + ${model.roundTrips.toFixed(2)} × RTT + ${model.serialShare.toFixed(2)} × bytes ÷ bandwidth ` +
      '(the constant: encoding, aggregation, Adam, the event loops; bandwidth: the coordinator link\'s, each way).',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

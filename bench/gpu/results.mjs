// Turns the benchmark's raw outputs (the JSON line each run prints last, and our metrics.jsonl)
// into results.json and results.md: images/s of dsdc-dist on webgpu and of the PyTorch peer at
// each global batch, and their ratio. Plain JavaScript: it runs under the carried Node alone.
//
// Both figures leave the first steps out. The peer times from the end of its 3rd step; our
// summary from the end of the 1st, so the steady figure used for the ratio is recomputed from
// metrics.jsonl over the same steps as the peer's (4..N): shader compilation stays out of both.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

/** The peer's default --warmup: its timer starts at the end of this step. */
const PEER_WARMUP_STEPS = 3;

const { values } = parseArgs({
  options: {
    work: { type: 'string' },
    out: { type: 'string' },
    steps: { type: 'string' },
    batches: { type: 'string' },
    'peer-device': { type: 'string' },
    adapter: { type: 'string' },
    'gpu-info': { type: 'string' },
  },
});
for (const name of ['work', 'out', 'steps', 'batches', 'peer-device', 'adapter']) {
  if (!values[name]) {
    process.stderr.write(`results.mjs: --${name} is required\n`);
    process.exit(2);
  }
}

function lastJsonLine(file) {
  if (!existsSync(file)) return { error: `${path.basename(file)} was not written` };
  const lines = readFileSync(file, 'utf8').trim().split('\n').reverse();
  for (const line of lines) {
    try {
      const parsed = JSON.parse(line);
      if (parsed && typeof parsed === 'object') return parsed;
    } catch {
      // progress lines: keep looking
    }
  }
  return { error: `${path.basename(file)} holds no JSON summary line` };
}

/** What the worker computed on, from its log line (the summary's device is the coordinator's). */
function workerDevice(stderrFile) {
  if (!existsSync(stderrFile)) return null;
  const line = readFileSync(stderrFile, 'utf8').split('\n').find((l) => /\[worker local-0\] backend: /.test(l));
  return line ? line.replace(/^.*\[worker local-0\] backend: /, '').trim() : null;
}

/** images/s between the end of step `from` and the last step, from the step records' timestamps. */
function steadyRate(metricsFile, from, batch) {
  if (!existsSync(metricsFile)) return null;
  const steps = readFileSync(metricsFile, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((r) => r.type === 'step');
  const start = steps.find((s) => s.step === from);
  const end = steps[steps.length - 1];
  if (!start || !end || end.step <= from) return null;
  const seconds = (Date.parse(end.time) - Date.parse(start.time)) / 1000;
  return seconds > 0 ? ((end.step - from) * batch) / seconds : null;
}

const round = (x, digits = 1) => (typeof x === 'number' && Number.isFinite(x) ? Number(x.toFixed(digits)) : null);
const adapter = existsSync(values.adapter) ? JSON.parse(readFileSync(values.adapter, 'utf8')) : null;
const gpuInfo = values['gpu-info'] && existsSync(values['gpu-info']) ? readFileSync(values['gpu-info'], 'utf8').trim() : null;
const batches = values.batches.trim().split(/\s+/).map(Number);
const steps = Number(values.steps);

const rows = batches.map((batch) => {
  const ours = lastJsonLine(path.join(values.work, `ours-${batch}.out`));
  const peer = lastJsonLine(path.join(values.work, `peer-${batch}.out`));
  const oursSteady = steadyRate(path.join(values.work, `metrics-${batch}.jsonl`), PEER_WARMUP_STEPS, batch);
  const peerRate = typeof peer.images_per_s === 'number' ? peer.images_per_s : null;
  return {
    batch,
    steps,
    ours_images_per_s: round(oursSteady),
    ours_summary_images_per_s: round(ours.images_per_s),
    ours_worker_device: workerDevice(path.join(values.work, `ours-${batch}.err`)),
    ours_step_timings_ms: ours.step_timings_ms ?? null,
    ours_final_loss: ours.final_loss ?? null,
    ours_interrupted: ours.interrupted === true,
    ours_error: ours.error ?? null,
    peer_images_per_s: peerRate,
    peer_device: peer.device ?? null,
    peer_torch: peer.torch ?? null,
    peer_error: peer.error ?? null,
    ratio: oursSteady !== null && peerRate ? round(oursSteady / peerRate, 3) : null,
  };
});

const results = { when: new Date().toISOString(), adapter, gpu_info: gpuInfo, peer_device: values['peer-device'], rows };
writeFileSync(path.join(values.out, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);

const backend = rows.find((r) => r.ours_worker_device)?.ours_worker_device?.split(',')[0] ?? 'failed';
const cell = (x) => (x === null || x === undefined ? 'failed' : String(x));
const md = [
  `# GPU benchmark, ${results.when}`,
  '',
  `Adapter: ${adapter ? `${adapter.description} (vendor ${adapter.vendor}, architecture ${adapter.architecture}${adapter.fallback ? ', software' : ''})` : 'none'}`,
  `GPU (nvidia-smi name, driver, memory): ${gpuInfo ?? 'not asked'}`,
  `dsdc-dist worker: ${rows.find((r) => r.ours_worker_device)?.ours_worker_device ?? 'none'}`,
  `Peer device: ${rows.find((r) => r.peer_device)?.peer_device ?? values['peer-device']}, torch ${rows.find((r) => r.peer_torch)?.peer_torch ?? '?'}`,
  '',
  `| global batch | steps | dsdc-dist (${backend}) images/s (steps ${PEER_WARMUP_STEPS + 1}..N) | its summary (steps 2..N) | PyTorch peer images/s | ratio ours/peer |`,
  '|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.batch} | ${r.steps} | ${cell(r.ours_images_per_s)} | ${cell(r.ours_summary_images_per_s)} | ${cell(r.peer_images_per_s)} | ${cell(r.ratio)} |`),
  '',
  'Mean step time of dsdc-dist (ms):',
  '',
  ...rows.map((r) => `- batch ${r.batch}: ${r.ours_step_timings_ms ? Object.entries(r.ours_step_timings_ms).map(([k, v]) => `${k} ${v}`).join(', ') : 'none'}`),
  ...rows.filter((r) => r.ours_interrupted).map((r) => `- ours at ${r.batch}: stopped by its time limit after fewer than ${r.steps} steps`),
  ...rows.flatMap((r) => [r.ours_error ? `- ours at ${r.batch}: ${r.ours_error}` : [], r.peer_error ? `- peer at ${r.batch}: ${r.peer_error}` : []].flat()),
  '',
].join('\n');
writeFileSync(path.join(values.out, 'results.md'), md);
process.stdout.write(md);
process.exit(rows.every((r) => r.ratio !== null) ? 0 : 1);

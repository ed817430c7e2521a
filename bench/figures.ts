// Pure arithmetic on run results: medians over repeats per configuration, then the derived
// figures the report shows (ratios to the peer, scaling 1→2 workers, coordinator overhead).
import type { ConfigId, RunResult } from './runners.js';

/** Median; the mean of the two middle values for an even count. */
export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export interface ConfigFigures {
  config: ConfigId;
  runs: number;
  failed: number;
  errors: string[];
  imagesPerSecond?: number;
  imagesPerSecondAll: number[];
  finalLoss?: number;
  bytesPerStep?: number;
  wallSeconds?: number;
  foreignCpuShare?: number;
  /** Median per phase of the per-step means, in ms. */
  stepTimingsMs: Record<string, number>;
  /** Median over repeats of each role's peak RSS, in MiB. */
  peakRssMiB: Record<string, number>;
  /** Median over repeats of the sum of all the run's processes' peaks. */
  peakRssTotalMiB?: number;
  /** Median over repeats of the CPU seconds of all the run's processes (start-up included). */
  cpuSeconds?: number;
  device?: string;
}

function medianOf<T>(items: readonly T[], pick: (item: T) => number | undefined): number | undefined {
  return median(items.map(pick).filter((v): v is number => typeof v === 'number' && Number.isFinite(v)));
}

function mediansByKey(records: readonly Record<string, number>[]): Record<string, number> {
  const keys = [...new Set(records.flatMap((r) => Object.keys(r)))];
  return Object.fromEntries(keys.map((k) => [k, medianOf(records, (r) => r[k]) ?? 0]));
}

export function figuresOf(config: ConfigId, results: readonly RunResult[]): ConfigFigures {
  const mine = results.filter((r) => r.config === config);
  const ok = mine.filter((r) => r.ok);
  const rssByRole = ok.map((r) => {
    const byRole: Record<string, number> = {};
    for (const p of r.processes) byRole[p.role] = Math.max(byRole[p.role] ?? 0, p.peakRssMiB);
    return byRole;
  });
  return {
    config,
    runs: ok.length,
    failed: mine.length - ok.length,
    errors: mine.filter((r) => !r.ok).map((r) => `r${r.repeat}: ${r.error}`),
    imagesPerSecond: medianOf(ok, (r) => r.imagesPerSecond),
    imagesPerSecondAll: ok.map((r) => r.imagesPerSecond!),
    finalLoss: medianOf(ok, (r) => r.finalLoss),
    bytesPerStep: medianOf(ok, (r) => r.bytesPerStep),
    wallSeconds: medianOf(ok, (r) => r.wallSeconds),
    foreignCpuShare: medianOf(ok, (r) => r.foreignCpuShare),
    stepTimingsMs: mediansByKey(ok.map((r) => r.stepTimingsMs ?? {})),
    peakRssMiB: mediansByKey(rssByRole),
    peakRssTotalMiB: medianOf(ok, (r) => r.processes.reduce((sum, p) => sum + p.peakRssMiB, 0)),
    cpuSeconds: medianOf(ok, (r) => r.processes.reduce((sum, p) => sum + p.cpuSeconds, 0)),
    device: ok.find((r) => r.device)?.device,
  };
}

export interface DerivedFigures {
  /** ours ÷ peer, 2 workers each: ratio of the medians. */
  ratioToPeer2?: number;
  /** The same ratio within each repeat, where the two ran next to each other. */
  ratioToPeer2EachRepeat: number[];
  /** ours train --workers 1 ÷ peer single process. */
  ratioToPeer1?: number;
  ratioToPeer1EachRepeat: number[];
  /** throughput(2 workers) ÷ throughput(1 worker), and that ÷ 2. */
  oursSpeedup?: number;
  oursScalingEfficiency?: number;
  peerSpeedup?: number;
  peerScalingEfficiency?: number;
  /** (aggregate + apply + broadcast) ÷ total, from the 2-worker run's step timings. */
  coordinatorOverheadShare?: number;
  /** Bytes the peer's DDP sends per step over 2 workers: computed from the model, not measured. */
  peerBytesPerStepEstimate: number;
}

export const MODEL_PARAMETERS = 35_722;
/** Batch-norm channels of the default DSDC-Net (reference-model.md): stem 32, SDC 64, 64, 128, 128. */
const BATCH_NORM_CHANNELS = 32 + 64 + 64 + 128 + 128;
const BATCH_NORM_LAYERS = 5;
const FLOAT32_BYTES = 4;
const INT64_BYTES = 8;
const COORDINATOR_PHASES = ['aggregate', 'apply', 'broadcast'] as const;

/**
 * What PyTorch DDP sends per step over n workers: a ring all-reduce sends 2·(n−1)/n of the
 * float32 gradient from each worker, and rank 0 broadcasts the batch-norm buffers (running mean
 * and variance, num_batches_tracked) to the n−1 others before each forward.
 */
export function peerBytesPerStep(workers: number, parameters = MODEL_PARAMETERS): number {
  if (workers < 2) return 0;
  const allReduce = workers * 2 * ((workers - 1) / workers) * parameters * FLOAT32_BYTES;
  const buffers = (workers - 1) * (2 * BATCH_NORM_CHANNELS * FLOAT32_BYTES + BATCH_NORM_LAYERS * INT64_BYTES);
  return Math.round(allReduce + buffers);
}

const ratio = (a?: number, b?: number) => (a !== undefined && b !== undefined && b > 0 ? a / b : undefined);

/** ours ÷ peer within each repeat that has both: the configurations run back to back there. */
function ratiosEachRepeat(results: readonly RunResult[], ours: ConfigId, peer: ConfigId): number[] {
  const ips = (id: ConfigId, repeat: number) => results.find((r) => r.ok && r.config === id && r.repeat === repeat)?.imagesPerSecond;
  const repeats = [...new Set(results.map((r) => r.repeat))].sort((a, b) => a - b);
  return repeats.map((k) => ratio(ips(ours, k), ips(peer, k))).filter((v): v is number => v !== undefined);
}

export function derive(by: Partial<Record<ConfigId, ConfigFigures>>, results: readonly RunResult[]): DerivedFigures {
  const ips = (id: ConfigId) => by[id]?.imagesPerSecond;
  const oursSpeedup = ratio(ips('ours-train-2'), ips('ours-train-1'));
  const peerSpeedup = ratio(ips('peer-2'), ips('peer-1'));
  const t = by['ours-train-2']?.stepTimingsMs ?? {};
  const overhead = COORDINATOR_PHASES.reduce((sum, k) => sum + (t[k] ?? 0), 0);
  return {
    ratioToPeer2: ratio(ips('ours-train-2'), ips('peer-2')),
    ratioToPeer1: ratio(ips('ours-train-1'), ips('peer-1')),
    ratioToPeer2EachRepeat: ratiosEachRepeat(results, 'ours-train-2', 'peer-2'),
    ratioToPeer1EachRepeat: ratiosEachRepeat(results, 'ours-train-1', 'peer-1'),
    oursSpeedup,
    oursScalingEfficiency: oursSpeedup !== undefined ? oursSpeedup / 2 : undefined,
    peerSpeedup,
    peerScalingEfficiency: peerSpeedup !== undefined ? peerSpeedup / 2 : undefined,
    coordinatorOverheadShare: t.total ? overhead / t.total : undefined,
    peerBytesPerStepEstimate: peerBytesPerStep(2),
  };
}

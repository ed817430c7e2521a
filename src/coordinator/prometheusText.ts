// /metrics in the Prometheus text exposition format (version 0.0.4): the run's figures under
// Prometheus names (`dsdc_` prefix, base units seconds and bytes, `_total` on counters), each
// with HELP and TYPE lines; workers and phases as labels. Served when a scraper asks for it
// (Accept: text/plain or OpenMetrics) and at /metrics/prometheus.
import type { RunStatus } from './status.js';
import type { WorkerState } from './workerLife.js';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Every state a worker can be shown in, so each gets a 0/1 series (a Prometheus state set). */
export const WORKER_STATES: ReadonlyArray<WorkerState | 'evicted'> = ['joining', 'idle', 'computing', 'stalled', 'standby', 'gone', 'evicted'];

type Labels = Record<string, string>;
type Sample = { labels?: Labels; value: number; suffix?: string };

/**
 * Whether an Accept header asks for the text format: Prometheus sends OpenMetrics and text/plain
 * ranges; browsers and scripts asking for anything else (or JSON at least as much) get JSON.
 */
export function wantsPrometheusText(accept: string | undefined): boolean {
  let text = 0;
  let json = 0;
  for (const range of (accept ?? '').split(',')) {
    const [type, ...params] = range.trim().toLowerCase().split(';');
    const q = Number(params.map((p) => p.trim()).find((p) => p.startsWith('q='))?.slice(2) ?? 1);
    const weight = Number.isFinite(q) ? q : 0;
    if (type === 'text/plain' || type === 'application/openmetrics-text') text = Math.max(text, weight);
    else if (type === 'application/json') json = Math.max(json, weight);
  }
  return text > 0 && text > json;
}

export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function labelText(labels: Labels | undefined): string {
  const entries = Object.entries(labels ?? {});
  return entries.length === 0 ? '' : `{${entries.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(',')}}`;
}

class Exposition {
  private readonly lines: string[] = [];

  family(name: string, type: 'counter' | 'gauge' | 'histogram', help: string, samples: Sample[]): void {
    if (samples.length === 0) return;
    this.lines.push(`# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${name} ${type}`);
    for (const s of samples) this.lines.push(`${name}${s.suffix ?? ''}${labelText(s.labels)} ${formatValue(s.value)}`);
  }

  text(): string {
    return this.lines.join('\n') + '\n';
  }
}

const present = (value: number | undefined | null): Sample[] => (typeof value === 'number' ? [{ value }] : []);

export function prometheusText(status: RunStatus): string {
  const out = new Exposition();
  const json = status.toJSON();
  const last = status.lastStep;
  out.family('dsdc_run_info', 'gauge', 'The run this coordinator trains (always 1).', [{ labels: { run_id: json.run_id }, value: 1 }]);
  out.family('dsdc_run_phase', 'gauge', 'The run phase: 1 for the current one, 0 for the others.', (['waiting-for-workers', 'training', 'finished', 'failed'] as const).map((phase) => ({ labels: { phase }, value: json.phase === phase ? 1 : 0 })));
  out.family('dsdc_steps_total', 'counter', 'Optimizer steps taken (the global step).', [{ value: json.step }]);
  out.family('dsdc_planned_steps', 'gauge', 'Steps the run will take in all.', present(json.total_steps));
  out.family('dsdc_epoch', 'gauge', 'Epoch of the latest step, counted from 1.', present(last ? json.epoch : undefined));
  out.family('dsdc_loss', 'gauge', "Cross-entropy of the latest step's global batch.", present(json.loss));
  out.family('dsdc_batch_accuracy', 'gauge', "Fraction of the latest step's global batch classified right.", present(json.accuracy));
  out.family('dsdc_learning_rate', 'gauge', 'Learning rate of the latest step.', present(json.learning_rate));
  out.family('dsdc_images_per_second', 'gauge', 'Training throughput since the first step, evaluation and checkpoints left out.', present(json.images_per_s));
  out.family('dsdc_test_accuracy', 'gauge', 'Test-set accuracy of the latest evaluation (each complete epoch, and the end of the run).', present(json.final_test_accuracy ?? json.test_accuracy));
  out.family('dsdc_validation_accuracy', 'gauge', 'Validation accuracy after the latest complete epoch.', present(json.val_accuracy));
  out.family('dsdc_validation_loss', 'gauge', 'Validation loss after the latest complete epoch.', present(json.val_loss));
  out.family('dsdc_eta_seconds', 'gauge', 'Estimated time until the last step, from the pace of the steps so far.', present(json.eta_seconds));
  const steps = status.stepSeconds;
  out.family('dsdc_step_seconds', 'histogram', 'Wall time of a whole step on the coordinator.', [
    ...steps.buckets().map(([le, value]) => ({ suffix: '_bucket', labels: { le: formatValue(le) }, value })),
    { suffix: '_sum', value: steps.sum },
    { suffix: '_count', value: steps.count },
  ]);
  out.family('dsdc_step_phase_seconds_total', 'counter', 'Time spent in each phase of the steps so far (compute and encode are means over workers).', [...status.phaseSeconds].map(([phase, value]) => ({ labels: { phase }, value })));
  out.family('dsdc_bytes_received_total', 'counter', 'Bytes of WebSocket frames the coordinator received from workers.', [{ value: status.wire.received }]);
  out.family('dsdc_bytes_sent_total', 'counter', 'Bytes of WebSocket frames the coordinator sent to workers.', [{ value: status.wire.sent }]);
  out.family('dsdc_workers_expected', 'gauge', 'Workers the run was started for (--workers).', [{ value: json.expected_workers }]);
  out.family('dsdc_pending_handshakes', 'gauge', 'Connections that have not finished their handshake.', [{ value: json.pending_handshakes }]);
  const workers = json.workers;
  out.family('dsdc_worker_state', 'gauge', "Each worker's state: 1 for the current one, 0 for the others.", workers.flatMap((w) => WORKER_STATES.map((state) => ({ labels: { worker: w.id, state }, value: w.state === state ? 1 : 0 }))));
  out.family('dsdc_worker_steps_total', 'counter', 'Step parts a worker delivered and the coordinator accepted, on its current connection.', workers.map((w) => ({ labels: { worker: w.id }, value: w.steps })));
  out.family('dsdc_worker_last_step_seconds', 'gauge', "Round trip of a worker's last accepted part.", workers.map((w) => ({ labels: { worker: w.id }, value: w.last_step_ms / 1000 })));
  out.family('dsdc_worker_bytes_received_total', 'counter', 'Bytes received from a worker on its current connection.', workers.map((w) => ({ labels: { worker: w.id }, value: w.bytes_received })));
  out.family('dsdc_worker_bytes_sent_total', 'counter', 'Bytes sent to a worker on its current connection.', workers.map((w) => ({ labels: { worker: w.id }, value: w.bytes_sent })));
  return out.text();
}

// Renders the transfer experiments as the Markdown section BENCHMARKS.md keeps between the
// transfer markers, and splices it in without touching the other sections.

export const TRANSFER_START = '<!-- transfer:start -->';
export const TRANSFER_END = '<!-- transfer:end -->';

export interface RunRecord {
  label: string;
  kind: 'pretrain' | 'scratch' | 'finetune';
  task: string;
  freeze: string;
  lr: number;
  steps: number;
  testAccuracy: number;
  macroF1: number;
  imagesPerSecond: number;
  /** steps × batch ÷ images/s: training only, without start-up and evaluation. */
  trainSeconds: number;
  wallSeconds: number;
  bytesPerStep: number;
  trainableValues: number;
  checkpoint: string;
  command: string;
}

export interface Experiment {
  title: string;
  source: string;
  target: string;
  runs: RunRecord[];
}

export interface TransferReport {
  command: string;
  startedAt: string;
  minutes: number;
  steps: number;
  batchSize: number;
  workers: number;
  /** Batch-norm momentum of the pretrain and from-scratch runs (fine-tuning keeps the checkpoint's). */
  bnMomentum: number;
  machine: { cpuModel: string; cores: number; memoryGiB: number; node: string; loadAtStart: number[]; loadAtEnd: number[] };
  gitCommit: string;
  experiments: Experiment[];
  skipped: string[];
}

const BYTES_PER_VALUE = 4;
const int = (v: number) => Math.round(v).toLocaleString('en-US');
const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
const fixed = (v: number, digits = 1) => v.toFixed(digits);

function table(header: string[], rows: string[][], textColumns = 1): string {
  const align = header.map((_, i) => (i < textColumns ? '---' : '---:'));
  return [`| ${header.join(' | ')} |`, `|${align.join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

function runName(r: RunRecord): string {
  if (r.kind === 'pretrain') return `pretrain on ${r.task} (source)`;
  if (r.kind === 'scratch') return `**from scratch** on ${r.task}`;
  return `**fine-tune** \`--freeze ${r.freeze}\` on ${r.task}`;
}

function accuracyTable(e: Experiment): string {
  const scratch = e.runs.find((r) => r.kind === 'scratch');
  const rows = e.runs.map((r) => [
    runName(r),
    fixed(r.lr, 4).replace(/0+$/, ''),
    int(r.trainableValues),
    String(r.steps),
    `**${pct(r.testAccuracy)}**`,
    r.kind === 'finetune' && scratch ? `${r.testAccuracy >= scratch.testAccuracy ? '+' : ''}${(100 * (r.testAccuracy - scratch.testAccuracy)).toFixed(2)} pts` : '—',
    fixed(r.macroF1, 3),
    fixed(r.trainSeconds),
    r.kind === 'finetune' && scratch ? `${fixed(scratch.trainSeconds / r.trainSeconds, 2)}×` : '—',
    int(r.imagesPerSecond),
  ]);
  return table(['run', 'lr', 'trained values', 'steps', 'test accuracy', 'vs scratch', 'macro F1', 'train s', 'speed-up', 'images/s'], rows);
}

function bytesTable(r: TransferReport): string {
  const rows = r.experiments.flatMap((e) => {
    const full = e.runs.find((x) => x.kind === 'scratch');
    return e.runs
      .filter((x) => x.kind !== 'pretrain')
      .map((x) => {
        const payload = r.workers * BYTES_PER_VALUE * x.trainableValues * 2;
        return [
          e.title,
          x.kind === 'scratch' ? 'full training (from scratch)' : `fine-tune \`${x.freeze}\`, lr ${x.lr}`,
          int(x.trainableValues),
          int(x.bytesPerStep),
          full ? pct(x.bytesPerStep / full.bytesPerStep) : '—',
          int(payload),
          int((x.bytesPerStep - payload) / r.workers),
        ];
      });
  });
  return table(['experiment', 'run', 'trained values', 'bytes / step', '÷ full', `4 × trained × 2 × ${r.workers}`, 'rest per worker'], rows, 2);
}

export function renderTransferSection(r: TransferReport): string {
  const m = r.machine;
  const parts = [
    TRANSFER_START,
    '## Transfer: fine-tuning versus training from scratch',
    '',
    `Written by \`${r.command}\` (bench/transfer.ts) on ${r.startedAt.slice(0, 10)} at ${r.startedAt.slice(11, 16)} UTC, in ${fixed(r.minutes)} minutes, from commit \`${r.gitCommit}\`. ` +
      `Machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}; load average ${m.loadAtStart.map((v) => v.toFixed(1)).join(' / ')} at the start and ${m.loadAtEnd.map((v) => v.toFixed(1)).join(' / ')} at the end ` +
      '(other work shared the machine, so times are indicative; accuracies do not depend on it).',
    '',
    `Every run: coordinator + ${r.workers} worker processes (\`--workers ${r.workers} --backend wasm\`), ${r.steps} steps of global batch ${r.batchSize}, ` +
      `the training set cut to exactly one epoch of them (\`--train-limit ${r.steps * r.batchSize} --epochs 1\`, so each cosine schedule runs to its end), ` +
      `default augmentation (shifts of up to 2 pixels), seed 1, batch norm with momentum ${r.bnMomentum} (\`--bn-momentum ${r.bnMomentum}\` for pretraining and from scratch; fine-tuning keeps the checkpoint's): ` +
      'with the default 0.99 the moving statistics of so short a run trail the weights and test accuracy stays near chance. Test accuracy is on the whole test set of the run\'s classes. Fine-tuning starts from the pretrained checkpoint with a new head ' +
      '(automatic for 0-4 → 5-9 since the classes differ; `--new-head` for Fashion-MNIST, same class count). `all-but-last:2` is the articles\' freezing: only sdc4, sdc4_bn and head train; ' +
      '`all-but-last:1` trains the head alone. "train s" is steps × batch ÷ images/s (no start-up, no evaluation).',
  ];
  for (const e of r.experiments) {
    parts.push('', `### ${e.title}`, '', accuracyTable(e), '', '<details><summary>commands</summary>', '', ...e.runs.map((x) => `- \`${x.command}\``), '', '</details>');
  }
  parts.push(
    '',
    '### Bytes per step: full training versus fine-tuning',
    '',
    `Gradients up plus weight broadcasts down, summed over the ${r.workers} workers (\`bytes_per_step\` of the JSON summary). Full training also sends every batch-norm moving statistic; ` +
      'a frozen batch norm runs in inference mode and sends nothing. "rest per worker" is what is not trained values: msgpack keys, tensor names and shapes, and for full training the moving statistics.',
    '',
    bytesTable(r),
  );
  if (r.skipped.length) parts.push('', ...r.skipped.map((s) => `Skipped: ${s}.`));
  parts.push(TRANSFER_END);
  return parts.join('\n');
}

export function spliceTransferSection(existing: string | undefined, section: string): string {
  if (existing === undefined || existing.trim() === '') return `# Benchmarks\n\n${section}\n`;
  const start = existing.indexOf(TRANSFER_START);
  const end = existing.indexOf(TRANSFER_END, start);
  if (start >= 0 && end > start) return existing.slice(0, start) + section + existing.slice(end + TRANSFER_END.length);
  return `${existing.trimEnd()}\n\n${section}\n`;
}

// What a person sees while training, apart from the log: a progress bar per epoch, or a plain
// progress line now and then, and one summary line per epoch (Keras' `verbose`). `--progress`
// chooses, independently of `--log-level`: auto is the bar on a terminal and lines when piped
// (pm2 logs, CI). Everything goes to stderr so that stdout stays for --json. Colour only on a
// terminal, and never with NO_COLOR set (https://no-color.org).
// The formatting is pure (formatBar, formatProgressLine, formatEpochSummary); the reporter writes.

export const PROGRESS_MODES = ['auto', 'bar', 'lines', 'none'] as const;
export type ProgressMode = (typeof PROGRESS_MODES)[number];
export type ProgressStyle = Exclude<ProgressMode, 'auto'>;

export interface ProgressSnapshot {
  epoch: number;
  epochs: number;
  stepInEpoch: number;
  stepsInEpoch: number;
  imagesPerSecond: number;
  loss: number;
  accuracy: number;
  /** Seconds since this epoch's first step began. */
  epochElapsedSeconds: number;
  /** Seconds left in this epoch at the current throughput. */
  epochEtaSeconds: number;
  /** The run's last step (it may end mid-epoch with --max-steps): always written. */
  last?: boolean;
}

export interface EpochSummary {
  /** 0-based, shown from 1. */
  epoch: number;
  epochs: number;
  loss: number;
  trainAccuracy: number;
  testAccuracy?: number;
  /** With --val-split. */
  validation?: { val_loss: number; val_accuracy: number };
  imagesPerSecond: number;
  epochSeconds: number;
  /** Seconds left in the run; absent after its last epoch. */
  runEtaSeconds?: number;
}

const BAR_WIDTH = 24;
/** How often `lines` writes a progress line within an epoch (its last step always). */
export const PROGRESS_LINE_INTERVAL_MS = 10_000;

/** `auto` is the bar on a terminal, lines otherwise. */
export function progressStyle(mode: ProgressMode, isTTY: boolean): ProgressStyle {
  return mode === 'auto' ? (isTTY ? 'bar' : 'lines') : mode;
}

/** Colour on a terminal, unless NO_COLOR is set to anything but the empty string. */
export function useColour(isTTY: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  return isTTY && !(env.NO_COLOR !== undefined && env.NO_COLOR !== '');
}

interface Paint {
  bold(text: string): string;
  green(text: string): string;
  dim(text: string): string;
}

const PLAIN: Paint = { bold: (t) => t, green: (t) => t, dim: (t) => t };
const ANSI: Paint = {
  bold: (t) => `\x1b[1m${t}\x1b[22m`,
  green: (t) => `\x1b[32m${t}\x1b[39m`,
  dim: (t) => `\x1b[2m${t}\x1b[22m`,
};
const paint = (colour: boolean) => (colour ? ANSI : PLAIN);

function figures(p: ProgressSnapshot): string {
  return `${p.imagesPerSecond.toFixed(0)} img/s  loss ${p.loss.toFixed(4)}  acc ${(100 * p.accuracy).toFixed(1)}%`;
}

/** The bar's text (without the carriage return that redraws it). */
export function formatBar(p: ProgressSnapshot, colour = false): string {
  const c = paint(colour);
  const done = Math.min(BAR_WIDTH, Math.round((BAR_WIDTH * p.stepInEpoch) / Math.max(1, p.stepsInEpoch)));
  const bar = c.green('█'.repeat(done)) + c.dim('░'.repeat(BAR_WIDTH - done));
  return `${c.bold(`epoch ${p.epoch + 1}/${p.epochs}`)} ${bar} ${p.stepInEpoch}/${p.stepsInEpoch} [${formatDuration(p.epochElapsedSeconds)}<${formatDuration(p.epochEtaSeconds)}]  ${figures(p)}`;
}

/** One progress line of `lines` mode. */
export function formatProgressLine(p: ProgressSnapshot): string {
  return `epoch ${p.epoch + 1}/${p.epochs} step ${p.stepInEpoch}/${p.stepsInEpoch}, ${formatDuration(p.epochElapsedSeconds)} elapsed, epoch ETA ${formatDuration(p.epochEtaSeconds)}: ${figures(p)}`;
}

export function formatEpochSummary(s: EpochSummary, colour = false): string {
  const c = paint(colour);
  const val = s.validation === undefined ? '' : `, val loss ${s.validation.val_loss.toFixed(4)}, val acc ${(100 * s.validation.val_accuracy).toFixed(2)}%`;
  const test = s.testAccuracy === undefined ? '' : `, test acc ${c.bold(`${(100 * s.testAccuracy).toFixed(2)}%`)}`;
  const eta = s.runEtaSeconds === undefined ? '' : `, run ETA ${formatDuration(s.runEtaSeconds)}`;
  return (
    `${c.bold(`epoch ${s.epoch + 1}/${s.epochs}`)} done in ${formatDuration(s.epochSeconds)}: loss ${s.loss.toFixed(4)}, ` +
    `train acc ${(100 * s.trainAccuracy).toFixed(2)}%${val}${test}, ${s.imagesPerSecond.toFixed(0)} img/s${eta}`
  );
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(rest).padStart(2, '0')}s` : `${rest}s`;
}

export interface ProgressStream {
  isTTY?: boolean;
  write(text: string): unknown;
}

export class ProgressReporter {
  readonly style: ProgressStyle;
  private readonly colour: boolean;
  private lastLine = Number.NEGATIVE_INFINITY;
  private barOpen = false;

  constructor(
    mode: ProgressMode = 'auto',
    private readonly stream: ProgressStream = process.stderr,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    const tty = Boolean(stream.isTTY);
    this.style = progressStyle(mode, tty);
    this.colour = this.style === 'bar' && useColour(tty, env);
  }

  /** Whether epoch summaries are written here (else the caller logs them). */
  get shown(): boolean {
    return this.style !== 'none';
  }

  update(p: ProgressSnapshot): void {
    if (this.style === 'bar') {
      this.stream.write(`\r\x1b[2K${formatBar(p, this.colour)}`);
      this.barOpen = true;
      return;
    }
    if (this.style !== 'lines') return;
    const now = Date.now();
    if (now - this.lastLine >= PROGRESS_LINE_INTERVAL_MS || p.stepInEpoch === p.stepsInEpoch || p.last) {
      this.lastLine = now;
      this.stream.write(formatProgressLine(p) + '\n');
    }
  }

  epochFinished(summary: EpochSummary): void {
    if (!this.shown) return;
    this.endLine();
    this.stream.write(formatEpochSummary(summary, this.colour) + '\n');
  }

  /** Ends the bar's line so that the next message starts on a fresh one. */
  endLine(): void {
    if (!this.barOpen) return;
    this.stream.write('\n');
    this.barOpen = false;
  }
}

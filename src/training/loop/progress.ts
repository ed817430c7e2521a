// What a person sees while training: a progress bar per epoch on a terminal, info log lines
// otherwise (pm2 logs, CI, pipes: with the time, level and component like every other line).
// Both go to stderr so that stdout stays for --json, and both follow --log-level (info).
import type { Logger } from '../../log/logger.js';

export interface ProgressSnapshot {
  epoch: number;
  epochs: number;
  stepInEpoch: number;
  stepsInEpoch: number;
  imagesPerSecond: number;
  loss: number;
  accuracy: number;
  etaSeconds: number;
  /** The run's last step (it may end mid-epoch with --max-steps): always logged. */
  last?: boolean;
}

const BAR_WIDTH = 24;
const PLAIN_LOG_INTERVAL_MS = 10_000;

export class ProgressReporter {
  private lastPlainLog = 0;
  private readonly tty: boolean;

  private readonly quiet: boolean;

  constructor(
    private readonly log: Logger,
    quiet = false,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.tty = Boolean(stream.isTTY);
    this.quiet = quiet || !log.enabled('info');
  }

  update(p: ProgressSnapshot): void {
    if (this.quiet) return;
    const line = describe(p);
    if (this.tty) {
      const done = Math.round((BAR_WIDTH * p.stepInEpoch) / Math.max(1, p.stepsInEpoch));
      const bar = '█'.repeat(done) + '░'.repeat(BAR_WIDTH - done);
      this.stream.write(`\r\x1b[2Kepoch ${p.epoch + 1}/${p.epochs} ${bar} ${line}`);
      return;
    }
    const now = Date.now();
    if (now - this.lastPlainLog >= PLAIN_LOG_INTERVAL_MS || p.stepInEpoch === p.stepsInEpoch || p.last) {
      this.lastPlainLog = now;
      this.log.info(`epoch ${p.epoch + 1}/${p.epochs} ${line}`);
    }
  }

  /** Ends the bar's line so that the next message starts on a fresh one. */
  endLine(): void {
    if (this.tty && !this.quiet) this.stream.write('\n');
  }
}

function describe(p: ProgressSnapshot): string {
  return (
    `step ${p.stepInEpoch}/${p.stepsInEpoch} ${p.imagesPerSecond.toFixed(0)} img/s ` +
    `loss ${p.loss.toFixed(4)} acc ${(100 * p.accuracy).toFixed(1)}% ETA ${formatDuration(p.etaSeconds)}`
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

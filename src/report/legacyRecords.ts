// metrics.jsonl lines of runs written before keys were snake_case and epochs counted from 1
// (docs/metrics.md, "Runs written by earlier versions"), brought to today's form so the report
// reads old runs too. An old step record is known by its `timings` field; the epoch records
// after it are old too (a run resumed by a newer version goes on in the new form).

type Line = Record<string, unknown> & { type?: unknown };

const SUMMARY_RENAMES: ReadonlyArray<[string, string]> = [
  ['imagesPerSecond', 'images_per_s'],
  ['finalLoss', 'final_loss'],
  ['trainAccuracy', 'train_accuracy'],
  ['bytesPerStep', 'bytes_per_step'],
  ['wallSeconds', 'wall_s'],
  ['timings', 'step_timings_ms'],
];

/** `computeMs` → `compute`, `waitForSlowestMs` → `wait_for_slowest`. */
function upgradeTimings(timings: unknown): unknown {
  if (typeof timings !== 'object' || timings === null) return timings;
  return Object.fromEntries(Object.entries(timings).map(([key, ms]) => [key.replace(/Ms$/, '').replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), ms]));
}

export class LegacyRecordReader {
  /** Whether the latest step record was of the old form. */
  private oldForm = false;

  upgrade(line: Line): Line {
    if (line.type === 'step') {
      this.oldForm = 'timings' in line && !('timings_ms' in line);
      if (!this.oldForm) return line;
      const { timings, ...rest } = line;
      return { ...rest, epoch: typeof line.epoch === 'number' ? line.epoch + 1 : line.epoch, timings_ms: upgradeTimings(timings) };
    }
    if (line.type === 'epoch' && this.oldForm) return { ...line, epoch: typeof line.epoch === 'number' ? line.epoch + 1 : line.epoch };
    if (line.type === 'summary' && 'imagesPerSecond' in line) {
      const out: Line = { ...line };
      for (const [from, to] of SUMMARY_RENAMES) {
        if (!(from in out)) continue;
        out[to] = from === 'timings' ? upgradeTimings(out[from]) : out[from];
        delete out[from];
      }
      return out;
    }
    return line;
  }
}

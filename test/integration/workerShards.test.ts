// A distributed worker holds only its shard: over a run it reads from the dataset cache exactly
// its part of every global batch it was sent (plus the next one it prefetches), never the set.
import { describe, expect, it } from 'vitest';
import { SMALL_RUN, runCli, tempDir } from '../helpers/cli.js';

const STEPS = 4;
const GLOBAL_BATCH = 64;
const READ_LINE = /\[worker (local-\d)\] read (\d+) training images from the cache, (\d+) different ones/g;

/** The run flags with another --log-level (a flag may be given once). */
function withLogLevel(flags: string[], level: string): string[] {
  const at = flags.indexOf('--log-level');
  return at < 0 ? [...flags, '--log-level', level] : flags.map((f, i) => (i === at + 1 ? level : f));
}

describe('distributed workers read only their shard of the training set', () => {
  it('2 workers each read their half of every global batch, and nothing else', async () => {
    const args = ['train', '--workers', '2', ...withLogLevel(SMALL_RUN, 'debug'), '--batch-size', String(GLOBAL_BATCH), '--max-steps', String(STEPS), '--no-eval'];
    const result = await runCli([...args, '--run-dir', tempDir('shards'), '--json'], { timeoutMs: 120_000 });
    expect(result.code, result.stderr.slice(-2000)).toBe(0);
    const reads = [...result.stderr.matchAll(READ_LINE)].map((m) => ({ worker: m[1], images: Number(m[2]), distinct: Number(m[3]) }));
    expect(reads.map((r) => r.worker).sort()).toEqual(['local-0', 'local-1']);
    const half = GLOBAL_BATCH / 2;
    for (const r of reads) {
      // Each step's part is read once (the prefetched copy is reused); one step within an epoch
      // never repeats an example.
      expect(r.images, r.worker).toBe(STEPS * half);
      expect(r.distinct, r.worker).toBe(STEPS * half);
    }
  }, 150_000);
});

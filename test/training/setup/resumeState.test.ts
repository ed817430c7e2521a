// --resume reads state.json through its schema: a checkpoint whose state was written with a
// value out of range (its checksums hold, so it is not damage) is refused, naming the file and
// the field, and nothing is trained from it.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { STATE_FILE } from '../../../src/checkpoint/checkpoint.js';
import { writeManifest } from '../../../src/checkpoint/manifest.js';
import { SMALL_RUN, runCli, tempDir } from '../../helpers/cli.js';

const CHECKPOINT_FILES = ['model.json', 'weights.bin', 'optimizer.bin', 'optimizer.json', STATE_FILE];

describe('--resume and state.json', () => {
  it('refuses a state.json whose learningRate is out of range, naming the file and the field', async () => {
    const runDir = tempDir('resume-state');
    const flags = ['worker', '--standalone', ...SMALL_RUN, '--batch-size', '32', '--no-eval', '--run-dir', runDir, '--json'];
    const first = await runCli([...flags, '--max-steps', '2']);
    expect(first.code, first.stderr).toBe(0);
    const checkpoint = first.json!.checkpoint as string;
    const stateFile = join(checkpoint, STATE_FILE);
    const state = JSON.parse(readFileSync(stateFile, 'utf8'));
    state.config.learningRate = 1e30;
    writeFileSync(stateFile, JSON.stringify(state, null, 2));
    await writeManifest(checkpoint, CHECKPOINT_FILES);

    const resumed = await runCli([...flags, '--max-steps', '4', '--resume']);
    expect(resumed.code).toBe(1);
    expect(resumed.stderr).toContain(stateFile);
    expect(resumed.stderr).toMatch(/config\.learningRate must be a positive number at most 1, got 1e\+30/);
    expect(resumed.stderr).toContain('[RUN_STATE_INVALID]');
  });
});

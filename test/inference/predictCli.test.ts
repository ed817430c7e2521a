// `dsdc-dist predict` as a user runs it: on PNG and JPEG files made from MNIST test digits
// (plain, inverted, enlarged), on the IDX test set against `evaluate`, and with a bad file.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { readIdxFile } from '../../src/data/idx.js';
import { defaultDataDir } from '../../src/data/mnist.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { trainedCheckpoint, TRAIN_TIMEOUT_MS } from './trainedCheckpoint.js';

const TEST_IMAGES = join(defaultDataDir(), 't10k-images-idx3-ubyte');
const IDX_LIMIT = 300;
const CLI_TIMEOUT_MS = 60_000;

interface PredictionLine {
  file?: string;
  index?: number;
  label?: number;
  predicted: number;
  probabilities: number[];
  error?: { code: string; message: string };
}

let checkpoint: string;
let digits: Uint8Array;
let idxLines: PredictionLine[];

const jsonLines = (stdout: string) => stdout.trim().split('\n').map((l) => JSON.parse(l) as PredictionLine);

beforeAll(async () => {
  checkpoint = await trainedCheckpoint();
  digits = (await readIdxFile(TEST_IMAGES)).data as Uint8Array;
  const idx = await runCli(['predict', '--checkpoint', checkpoint, '--idx', TEST_IMAGES, '--limit', String(IDX_LIMIT), '--backend', 'wasm', '--json', '--log-level', 'warn'], { timeoutMs: CLI_TIMEOUT_MS });
  expect(idx.code, idx.stderr).toBe(0);
  idxLines = jsonLines(idx.stdout).slice(0, -1);
}, TRAIN_TIMEOUT_MS + CLI_TIMEOUT_MS);

/** Test digit `k` as RGBA, scaled up `factor` times (nearest), optionally dark-on-light. */
function digitRgba(k: number, factor: number, inverted: boolean): { width: number; height: number; data: Uint8Array } {
  const size = 28 * factor;
  const data = new Uint8Array(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const v = digits[k * 784 + Math.floor(y / factor) * 28 + Math.floor(x / factor)];
      const g = inverted ? 255 - v : v;
      data.set([g, g, g, 255], (y * size + x) * 4);
    }
  }
  return { width: size, height: size, data };
}

function writePng(path: string, image: { width: number; height: number; data: Uint8Array }): string {
  const png = new PNG({ width: image.width, height: image.height });
  png.data.set(image.data);
  writeFileSync(path, PNG.sync.write(png));
  return path;
}

function writeJpeg(path: string, image: { width: number; height: number; data: Uint8Array }): string {
  writeFileSync(path, jpeg.encode(image, 95).data);
  return path;
}

/** Test digits the model classifies right and confidently on the IDX path, one per class where possible. */
function confidentDigits(n: number): PredictionLine[] {
  const good = idxLines.filter((l) => l.predicted === l.label && Math.max(...l.probabilities) > 0.9);
  const byClass = [...new Map(good.map((l) => [l.label, l])).values()];
  return byClass.slice(0, n);
}

describe('dsdc-dist predict', () => {
  it('reports on --idx the same accuracy as evaluate on the same test images', async () => {
    const [predict, evaluate] = await Promise.all([
      runCli(['predict', '--checkpoint', checkpoint, '--idx', TEST_IMAGES, '--limit', String(IDX_LIMIT), '--backend', 'wasm', '--json', '--log-level', 'warn'], { timeoutMs: CLI_TIMEOUT_MS }),
      runCli(['evaluate', '--checkpoint', checkpoint, '--test-limit', String(IDX_LIMIT), '--backend', 'wasm', '--json', '--log-level', 'warn'], { timeoutMs: CLI_TIMEOUT_MS }),
    ]);
    expect(predict.code, predict.stderr).toBe(0);
    expect(evaluate.code, evaluate.stderr).toBe(0);
    expect(predict.json!.examples).toBe(IDX_LIMIT);
    expect(predict.json!.accuracy).toBe(evaluate.json!.test_accuracy);
    expect(predict.json!.accuracy).toBeGreaterThan(0.8);
  });

  it('classifies PNG and JPEG files of test digits, dark-on-light and enlarged ones too, as their labels', async () => {
    const dir = tempDir('predict-files');
    const [a, b, c, d] = confidentDigits(4);
    const files = [
      writePng(join(dir, 'plain.png'), digitRgba(a.index!, 1, false)),
      writeJpeg(join(dir, 'plain.jpg'), digitRgba(b.index!, 1, false)),
      writePng(join(dir, 'dark-on-light-3x.png'), digitRgba(c.index!, 3, true)),
      writeJpeg(join(dir, 'enlarged-5x.jpg'), digitRgba(d.index!, 5, false)),
    ];
    const result = await runCli(['predict', '--checkpoint', checkpoint, ...files, '--backend', 'wasm', '--json', '--log-level', 'warn'], { timeoutMs: CLI_TIMEOUT_MS });
    expect(result.code, result.stderr).toBe(0);
    const lines = jsonLines(result.stdout);
    expect(lines.map((l) => l.file)).toEqual(files);
    expect(lines.map((l) => l.predicted)).toEqual([a, b, c, d].map((l) => l.label));
    for (const l of lines) expect(l.probabilities.reduce((s, p) => s + p, 0)).toBeCloseTo(1, 4);
  });

  it('names a file that is not an image, still classifies the others, and exits with code 1', async () => {
    const dir = tempDir('predict-bad');
    const [a] = confidentDigits(1);
    const good = writePng(join(dir, 'good.png'), digitRgba(a.index!, 2, true));
    const notImage = join(dir, 'notes.png');
    writeFileSync(notImage, 'these are not pixels\n');
    const truncated = join(dir, 'truncated.png');
    writeFileSync(truncated, PNG.sync.write(Object.assign(new PNG({ width: 56, height: 56 }), { data: Buffer.from(digitRgba(a.index!, 2, true).data) })).subarray(0, 60));
    const missing = join(dir, 'missing.jpg');
    const result = await runCli(['predict', '--checkpoint', checkpoint, notImage, good, truncated, missing, '--backend', 'wasm', '--log-level', 'warn'], { timeoutMs: CLI_TIMEOUT_MS });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`${good}: ${a.label}`);
    expect(result.stderr).toContain(`${notImage}: is not a PNG or JPEG image`);
    expect(result.stderr).toContain(`${truncated}: has a PNG signature but could not be decoded`);
    expect(result.stderr).toContain(`${missing}: cannot be read (ENOENT: no such file)`);
  });
});

// Crafted and damaged files, each made from a real checkpoint of a tiny run, with the checksums
// of manifest.json recomputed as a deliberate forger would (a careless one is caught by them
// already). Every refusal names the file, and comes before tfjs allocates the model.
import { createHash } from 'node:crypto';
import { cpSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { decodeFrame, encodeMessage } from '../../src/protocol/index.js';
import { DEFAULT_MODEL_SPEC } from '../../src/model/spec.js';
import { loadDataset, openDatasetCache } from '../../src/data/mnist.js';
import { runCli, tempDir, TEST_TOKEN } from '../helpers/cli.js';
import { DEFAULT_TRAIN_CONFIG } from '../../src/training/setup/config.js';
import { answerHandshake } from './scriptedCoordinator.js';
import { writeTinySet } from '../data/fixtures.js';
import { CliProcess, latestCheckpoint, START_TIMEOUT_MS, TINY_RUN } from './harness.js';

const RUN_TIMEOUT_MS = 120_000;
const CRAFTED_FILTERS = 8192;

function rewriteManifest(dir: string): void {
  const manifestFile = join(dir, 'manifest.json');
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as { files: { name: string; bytes: number; sha256: string }[] };
  for (const entry of manifest.files) {
    const data = readFileSync(join(dir, entry.name));
    entry.bytes = data.byteLength;
    entry.sha256 = createHash('sha256').update(data).digest('hex');
  }
  writeFileSync(manifestFile, JSON.stringify(manifest, null, 2));
}

function editJson(file: string, edit: (json: any) => void): void {
  const json = JSON.parse(readFileSync(file, 'utf8'));
  edit(json);
  writeFileSync(file, JSON.stringify(json));
}

describe('crafted and damaged files', () => {
  const root = tempDir('crafted');
  const runDir = join(root, 'run');
  let checkpoint: string;

  beforeAll(async () => {
    const made = await runCli(['worker', '--standalone', ...TINY_RUN, '--max-steps', '2', '--no-eval', '--run-dir', runDir, '--log-level', 'warn'], { timeoutMs: RUN_TIMEOUT_MS });
    expect(made.code, made.stderr).toBe(0);
    checkpoint = latestCheckpoint(runDir);
  }, RUN_TIMEOUT_MS);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  /** A copy of the checkpoint, changed by `craft`, with its manifest recomputed. */
  function crafted(name: string, craft: (dir: string) => void): string {
    // Laid out as a run directory, so that --resume finds it too.
    const dir = join(root, name, 'checkpoints', 'step-0000000002');
    cpSync(checkpoint, dir, { recursive: true });
    writeFileSync(join(root, name, 'checkpoints', 'LATEST'), 'step-0000000002\n');
    craft(dir);
    rewriteManifest(dir);
    return dir;
  }

  it(`a model.json declaring ${CRAFTED_FILTERS} filters is refused, naming the file and the layer, before the model is built`, { timeout: RUN_TIMEOUT_MS }, async () => {
    const dir = crafted('wide', (d) => editJson(join(d, 'model.json'), (m) => (m.modelTopology.config.layers[0].config.filters = CRAFTED_FILTERS)));
    const result = await runCli(['evaluate', '--checkpoint', dir, '--backend', 'wasm', '--test-limit', '10'], { timeoutMs: RUN_TIMEOUT_MS });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${dir}/model.json: layer "stem_conv" declares filters ${CRAFTED_FILTERS}, more than the 1024 this build accepts`);
  });

  it('a model.json whose layer widths disagree with its weights is refused, naming the layer and the weight', { timeout: RUN_TIMEOUT_MS }, async () => {
    const dir = crafted('disagree', (d) => editJson(join(d, 'model.json'), (m) => (m.modelTopology.config.layers[2].config.filters = 96)));
    const result = await runCli(['evaluate', '--checkpoint', dir, '--backend', 'wasm', '--test-limit', '10'], { timeoutMs: RUN_TIMEOUT_MS });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${dir}/model.json: layer "sdc1" declares filters 96, but its weight "sdc1/pointwise_kernel" has shape [1, 1, 32, 64]`);
  });

  it('a short weights.bin is refused with the sizes and the file names', { timeout: RUN_TIMEOUT_MS }, async () => {
    const dir = crafted('short', (d) => truncateSync(join(d, 'weights.bin'), readFileSync(join(d, 'weights.bin')).byteLength - 152));
    const result = await runCli(['evaluate', '--checkpoint', dir, '--backend', 'wasm', '--test-limit', '10'], { timeoutMs: RUN_TIMEOUT_MS });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`${dir}/model\\.json: its weights manifest declares (\\d+) bytes, but weights\\.bin holds \\d+; the files do not belong together or one was cut short`));
  });

  it(`a state.json whose model spec declares ${CRAFTED_FILTERS} filters is refused on --resume, naming the file and the field`, { timeout: RUN_TIMEOUT_MS }, async () => {
    const dir = crafted('state', (d) => editJson(join(d, 'state.json'), (s) => (s.config.model.stemFilters = CRAFTED_FILTERS)));
    const result = await runCli(['worker', '--standalone', ...TINY_RUN, '--max-steps', '4', '--run-dir', join(root, 'state'), '--resume'], { timeoutMs: RUN_TIMEOUT_MS });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${dir}/state.json: config.model: stemFilters is ${CRAFTED_FILTERS}, more than the 1024 this build accepts`);
  });

  it(`a worker refuses a welcome whose model spec declares ${CRAFTED_FILTERS} filters, before building anything`, { timeout: RUN_TIMEOUT_MS }, async () => {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(server, 'listening');
    const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const reported = new Promise<string>((resolve) => {
      server.on('connection', (socket) => {
        void answerHandshake(socket, TEST_TOKEN).then(() => {
          const modelSpec = { ...DEFAULT_MODEL_SPEC, stemFilters: CRAFTED_FILTERS };
          const config = { ...DEFAULT_TRAIN_CONFIG, model: modelSpec };
          socket.send(encodeMessage({ type: 'welcome', runId: 'crafted', config, modelSpec, weightsVersion: 0, weights: [], trainable: [], shardInfo: { workerIndex: 0, workers: 1 } }));
          socket.on('message', (data: Buffer, isBinary: boolean) => {
            const decoded = decodeFrame(data, isBinary);
            if (decoded.ok && decoded.message.type === 'error') resolve(decoded.message.message);
          });
        });
      });
    });
    const worker = new CliProcess('worker', ['worker', '--coordinator', url, '--worker-id', 'w', '--backend', 'wasm', '--log-level', 'info']);
    try {
      const message = await Promise.race([reported, worker.exited.then(() => 'exited')]);
      expect(message).toBe(`welcome from ${url}: modelSpec: stemFilters is ${CRAFTED_FILTERS}, more than the 1024 this build accepts`);
      await worker.waitForLine(new RegExp(`while handling welcome: welcome from ${url}: modelSpec: stemFilters is ${CRAFTED_FILTERS}`), START_TIMEOUT_MS);
      expect(worker.linesMatching(/joined run/)).toEqual([]);
    } finally {
      worker.stop();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  describe('a dataset cache whose labels were rewritten, checksum recomputed', () => {
    async function craftedCache(name: string) {
      const dir = join(root, name);
      const dataDir = join(dir, 'idx');
      const cacheDir = join(dir, 'cache');
      await writeTinySet(dataDir, { trainLabels: [0, 1, 2, 3, 4, 5], testLabels: [6, 7] });
      const first = await loadDataset({ dataDir, cacheDir });
      expect(first.fromCache).toBe(false);
      const [cacheFile] = (await import('node:fs')).readdirSync(cacheDir).map((f) => join(cacheDir, f));
      const bytes = readFileSync(cacheFile);
      // The train labels follow the 28-byte header and the 6 images of 4×4 pixels.
      const firstLabel = 28 + 6 * 16;
      bytes[firstLabel + 3] = 200;
      const body = bytes.subarray(0, bytes.length - 32);
      createHash('sha256').update(body).digest().copy(bytes, bytes.length - 32);
      writeFileSync(cacheFile, bytes);
      return { dataDir, cacheDir, cacheFile };
    }

    it('is refused by the loader with the file and the label, and rebuilt from the IDX files', async () => {
      const { dataDir, cacheDir, cacheFile } = await craftedCache('cache-load');
      const lines: string[] = [];
      const again = await loadDataset({ dataDir, cacheDir, log: (m) => lines.push(m) });
      expect(lines).toContain(`warning: ${cacheFile}: train labels: label at index 3 is 200, expected 0..9; delete it and it will be rebuilt; deleting it and rebuilding from the IDX files`);
      expect(again.fromCache).toBe(false);
      expect([...again.train.labels]).toEqual([0, 1, 2, 3, 4, 5]);
    });

    it("is refused as a distributed worker's streamed cache too, and rebuilt", async () => {
      const { dataDir, cacheDir, cacheFile } = await craftedCache('cache-open');
      const lines: string[] = [];
      const opened = await openDatasetCache({ dataDir, cacheDir, log: (m) => lines.push(m) });
      expect(lines.some((l) => l.startsWith(`warning: ${cacheFile}: train labels: label at index 3 is 200, expected 0..9`))).toBe(true);
      if ('cache' in opened) await opened.cache.handle.close();
    });
  });
});

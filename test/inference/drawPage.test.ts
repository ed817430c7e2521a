// `dsdc-dist serve` in headless Chromium: a digit drawn with the mouse is classified live in
// the browser, and a test-set digit handed to the page gets what `predict --idx` gives.
// Skipped, with a message, where Chromium is not installed.
import type { ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readIdxFile } from '../../src/data/idx.js';
import { defaultDataDir } from '../../src/data/mnist.js';
import type { Prediction } from '../../src/inference/classify.js';
import { chromiumAvailable, chromiumPath, launchChromium } from '../../src/report/browser.js';
import { REPO_ROOT, runCli, startCli, tempDir } from '../helpers/cli.js';
import { trainedCheckpoint, TRAIN_TIMEOUT_MS } from './trainedCheckpoint.js';

const TEST_IMAGES = join(defaultDataDir(), 't10k-images-idx3-ubyte');
/** docs/images/draw-page.png is rewritten only when asked (as dashboard.png), so tests leave the tree clean. */
const UPDATE_SCREENSHOTS = process.env.DSDC_UPDATE_SCREENSHOTS === '1';
const SCREENSHOT_MAX_BYTES = 300_000;
const DIGITS_COMPARED = 5;
const PROBABILITY_TOLERANCE = 1e-4;
const START_TIMEOUT_MS = 60_000;

const hasChromium = chromiumAvailable();
if (!hasChromium) {
  console.warn(`drawPage.test.ts: skipped, no Chromium at ${chromiumPath()} (apt-get install -y chromium, or set DSDC_CHROMIUM to its path)`);
}

type Stroke = Array<[number, number]>;

/** Draws strokes given in the pad's own 280×280 coordinates, one mouse drag each. */
async function draw(page: Page, strokes: Stroke[], whileDrawing?: () => Promise<void>): Promise<void> {
  const box = (await page.locator('#pad').boundingBox())!;
  const to = ([x, y]: [number, number]) => [box.x + (x * box.width) / 280, box.y + (y * box.height) / 280] as const;
  for (const stroke of strokes) {
    await page.mouse.move(...to(stroke[0]));
    await page.mouse.down();
    for (const point of stroke.slice(1)) await page.mouse.move(...to(point), { steps: 4 });
    if (whileDrawing) await whileDrawing();
    await page.mouse.up();
  }
}

/** Waits two animation frames: the page predicts on the newest drawing at most once per frame. */
const settled = (page: Page) => page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));

const predictionsShown = (page: Page) => page.evaluate(() => Number(document.body.dataset.predictions));

async function barProbabilities(page: Page): Promise<number[]> {
  return page.$$eval('.bar-row', (rows) => rows.map((r) => Number((r as HTMLElement).dataset.probability)));
}

/** The first stdout line of a child process, parsed as JSON. */
function firstJsonLine(child: ChildProcess, timeoutMs: number): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`no JSON line from the server in ${timeoutMs} ms\n${err.slice(-2000)}`)), timeoutMs);
    child.stderr!.on('data', (d) => (err += d));
    child.stdout!.on('data', (d) => {
      out += d;
      const newline = out.indexOf('\n');
      if (newline < 0) return;
      clearTimeout(timer);
      resolve(JSON.parse(out.slice(0, newline)));
    });
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}\n${err.slice(-2000)}`)));
  });
}

describe.skipIf(!hasChromium)('dsdc-dist serve: the drawing page in headless Chromium', () => {
  let checkpoint: string;
  let server: ChildProcess;
  let url: string;
  /** The checkpoint directory the server chose (the run's newest valid one). */
  let servedDir: string;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    checkpoint = await trainedCheckpoint();
    server = startCli(['serve', '--checkpoint', checkpoint, '--port', '0', '--json', '--log-level', 'warn']);
    ({ url, checkpoint: servedDir } = await firstJsonLine(server, START_TIMEOUT_MS));
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 760, height: 480 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await page.waitForSelector('body[data-state="ready"]', { timeout: START_TIMEOUT_MS }).catch(async (e) => {
      throw new Error(`the page did not get ready: ${await page.textContent('#status')} ${errors.join('; ')} (${(e as Error).message})`);
    });
  }, TRAIN_TIMEOUT_MS + 2 * START_TIMEOUT_MS);

  afterAll(async () => {
    await browser?.close();
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
    }
  });

  it('serves the checkpoint model files byte for byte', async () => {
    const served = new Uint8Array(await (await fetch(new URL('model/model.json', url))).arrayBuffer());
    expect(Buffer.from(served).equals(readFileSync(join(servedDir, 'model.json')))).toBe(true);
    const weights = new Uint8Array(await (await fetch(new URL('model/weights.bin', url))).arrayBuffer());
    expect(Buffer.from(weights).equals(readFileSync(join(servedDir, 'weights.bin')))).toBe(true);
    expect((await fetch(new URL('model/state.json', url))).status).toBe(404);
  });

  it('predicts while a 1 is being drawn with the mouse, then 1, with probabilities summing to 1', async () => {
    await page.click('#clear');
    const before = await predictionsShown(page);
    // A '1': one vertical stroke. Before the button is released the page must already predict.
    await draw(page, [[[140, 40], [140, 100], [140, 160], [140, 240]]], async () => {
      await page.waitForFunction((n) => Number(document.body.dataset.predictions) > n && /^\d$/.test(document.getElementById('prediction')!.textContent!), before);
    });
    await settled(page);
    const probabilities = await barProbabilities(page);
    expect(probabilities).toHaveLength(10);
    expect(probabilities.reduce((s, p) => s + p, 0)).toBeCloseTo(1, 4);
    const shown = Number(await page.textContent('#prediction'));
    expect(shown).toBe(probabilities.indexOf(Math.max(...probabilities)));
    expect(shown).toBe(1);
  });

  it('gives test digits the class and probabilities that `predict --idx` gives', async () => {
    const cli = await runCli(['predict', '--checkpoint', checkpoint, '--idx', TEST_IMAGES, '--limit', String(DIGITS_COMPARED), '--backend', 'wasm', '--json', '--log-level', 'warn'], { timeoutMs: START_TIMEOUT_MS });
    expect(cli.code, cli.stderr).toBe(0);
    const expected = cli.stdout.trim().split('\n').slice(0, DIGITS_COMPARED).map((l) => JSON.parse(l) as Prediction);
    const images = (await readIdxFile(TEST_IMAGES)).data as Uint8Array;
    for (let k = 0; k < DIGITS_COMPARED; k++) {
      const pixels = Array.from(images.subarray(k * 784, (k + 1) * 784));
      const got = await page.evaluate((p) => window.__dsdcPredictPixels!(p), pixels);
      expect(got.predicted, `test digit ${k}`).toBe(expected[k].predicted);
      expect(Number(await page.textContent('#prediction'))).toBe(expected[k].predicted);
      got.probabilities.forEach((p, c) => expect(Math.abs(p - expected[k].probabilities[c]), `digit ${k} class ${c}`).toBeLessThan(PROBABILITY_TOLERANCE));
    }
  });

  // Refresh docs/images/draw-page.png with a well-trained run's checkpoint:
  // DSDC_UPDATE_SCREENSHOTS=1 DSDC_TEST_CHECKPOINT=RUN_DIR npx vitest run test/inference/drawPage.test.ts
  it('classifies a 7 drawn in two strokes as 7, and shows it all in a screenshot', async () => {
    await page.click('#clear');
    // The top bar, then the slanted stem.
    await draw(page, [[[70, 60], [140, 58], [210, 60]], [[210, 60], [180, 130], [150, 190], [130, 240]]]);
    await settled(page);
    expect(Number(await page.textContent('#prediction'))).toBe(7);
    const dir = UPDATE_SCREENSHOTS ? undefined : tempDir('draw-page');
    const screenshot = dir ? join(dir, 'draw-page.png') : join(REPO_ROOT, 'docs', 'images', 'draw-page.png');
    await page.screenshot({ path: screenshot });
    expect(statSync(screenshot).size).toBeLessThan(SCREENSHOT_MAX_BYTES);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
});

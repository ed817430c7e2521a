// A real `train --workers 2` run on 127.0.0.1, watched through the dashboard in headless
// Chromium while it trains, then reported on with `dsdc-dist report`.
import type { ChildProcess } from 'node:child_process';
import { freePort } from '../helpers/net.js';
import { once } from 'node:events';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, chromiumPath, launchChromium } from '../../src/report/browser.js';
import { FIGURES } from '../../src/report/html.js';
import { REPO_ROOT, runCli, startCli, tempDir } from '../helpers/cli.js';
import { waitFor } from './waitFor.js';

const MAX_STEPS = 40;
const TEST_LIMIT = 200;
const WORKERS = 2;
/** Startup (data, wasm, two workers joining) plus the whole run, on a slow machine. */
const RUN_TIMEOUT_MS = 55_000;
/** docs/images/dashboard.png is rewritten only when asked, so `npm test` leaves the tree clean. */
const UPDATE_SCREENSHOTS = process.env.DSDC_UPDATE_SCREENSHOTS === '1';
const SCREENSHOT_MAX_BYTES = 300 * 1024;
const NO_CHROMIUM = `skipped: no Chromium at ${chromiumPath()} (Debian: apt-get install chromium; .ci/run installs it)`;

interface Point {
  x: number;
  y: number;
}

/** The data of a Chart.js chart on the page (Chart is the page's global from the UMD build). */
function chartPoints(page: Page, canvasId: string, dataset = 0): Promise<Point[]> {
  return page.evaluate(
    ([id, index]) => (globalThis as unknown as { Chart: { getChart(id: string): { data: { datasets: Array<{ data: Point[] }> } } } }).Chart.getChart(id as string)?.data.datasets[index as number].data ?? [],
    [canvasId, dataset] as const,
  );
}

describe('a live two-worker run: dashboard while it trains, report after', () => {
  const runDir = tempDir('observability');
  let port: number;
  let train: ChildProcess;
  let stdout = '';
  let stderr = '';
  let listening: Promise<void>;
  let exited: Promise<number | null>;
  let browser: Browser | undefined;
  /** The dashboard, kept open from the first test into the second, past the run's end. */
  let dashboard: Page | undefined;

  beforeAll(async () => {
    port = await freePort();
    train = startCli([
      'train', '--workers', String(WORKERS), '--backend', 'wasm', '--max-steps', String(MAX_STEPS), '--batch-size', '32',
      '--train-limit', '1024', '--test-limit', String(TEST_LIMIT), '--port', String(port), '--run-dir', runDir, '--json',
    ]);
    train.stdout!.on('data', (d) => (stdout += d));
    listening = new Promise((resolve, reject) => {
      train.stderr!.on('data', (d) => {
        stderr += d;
        // The start line names the dashboard once the port is bound (`… · dashboard http://127.0.0.1:PORT/`).
        if (new RegExp(`dashboard:? http://127\\.0\\.0\\.1:${port}/`).test(stderr)) resolve();
      });
      train.on('exit', (code) => reject(new Error(`train exited (${code}) before listening:\n${stderr.slice(-3000)}`)));
    });
    exited = once(train, 'exit').then(([code]) => code as number | null);
    listening.catch(() => {}); // reported by the test that awaits it
  });

  afterAll(async () => {
    await browser?.close();
    if (train.exitCode === null && train.signalCode === null) {
      train.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
      if (train.exitCode === null) train.kill('SIGKILL');
    }
    rmSync(runDir, { recursive: true, force: true });
  });

  it('shows both workers with their backend and curves that hold the same values as /metrics', async ({ skip }) => {
    if (!chromiumAvailable()) {
      console.warn(NO_CHROMIUM);
      skip(NO_CHROMIUM);
    }
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1280, height: 1140 } });
    dashboard = page;
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await listening;
    await page.goto(`http://127.0.0.1:${port}/`);

    await page.waitForFunction(
      (workers) => {
        const chart = (globalThis as unknown as { Chart?: { getChart(id: string): { data: { datasets: Array<{ data: unknown[] }> } } | undefined } }).Chart?.getChart('loss-chart');
        return document.querySelectorAll('#workers tbody tr[data-worker-id]').length === workers && (chart?.data.datasets[0].data.length ?? 0) >= 3;
      },
      WORKERS,
      { timeout: RUN_TIMEOUT_MS, polling: 100 },
    );
    const rows = await page.$$eval('#workers tbody tr[data-worker-id]', (trs) =>
      trs.map((tr) => ({ id: (tr as HTMLElement).dataset.workerId, backend: tr.querySelector('td.backend')?.textContent, device: tr.querySelector('td.device')?.textContent })),
    );
    expect(rows.map((r) => r.id).sort()).toEqual(['local-0', 'local-1']);
    for (const row of rows) {
      expect(row.backend).toBe('wasm');
      expect(row.device).toMatch(/wasm/);
    }

    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).json();
    expect(metrics.workers.map((w: { backend: string }) => w.backend)).toEqual(['wasm', 'wasm']);
    await page.waitForFunction((step) => Number(document.body.dataset.step) >= step, metrics.step, { timeout: 10_000, polling: 50 });
    const losses = await chartPoints(page, 'loss-chart');
    // History and live records together: every step from the first, once, in order.
    expect(losses.map((p) => p.x)).toEqual(Array.from({ length: losses.length }, (_, i) => i + 1));
    expect(losses.find((p) => p.x === metrics.step)?.y).toBe(metrics.loss);
    expect((await chartPoints(page, 'accuracy-chart')).find((p) => p.x === metrics.step)?.y).toBe(metrics.accuracy);
    expect((await chartPoints(page, 'bytes-chart')).find((p) => p.x === metrics.step)?.y).toBe(metrics.bytes_per_step / 1024 / 1024);

    // The run's ETA, from the pace of its steps so far.
    await page.waitForFunction(() => /^\d+(m\d\ds|s)$|^\d+h/.test(document.getElementById('n-eta')?.textContent ?? ''), undefined, { timeout: 10_000, polling: 100 });

    // A picture with most of the run in it, still live.
    await page.waitForFunction((step) => Number(document.body.dataset.step) >= step, Math.round(0.75 * MAX_STEPS), { timeout: RUN_TIMEOUT_MS, polling: 100 });
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    const screenshot = UPDATE_SCREENSHOTS ? join(REPO_ROOT, 'docs', 'images', 'dashboard.png') : join(runDir, 'dashboard.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    expect(statSync(screenshot).size).toBeLessThan(SCREENSHOT_MAX_BYTES);
    expect(pageErrors).toEqual([]);
  });

  it('finishes with the page still open, and `report` writes one self-contained HTML file, PNG and SVG figures', async () => {
    const code = await Promise.race([
      exited,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`train did not finish in ${RUN_TIMEOUT_MS} ms:\n${stderr.slice(-3000)}`)), RUN_TIMEOUT_MS).unref()),
    ]);
    expect(code, stderr.slice(-3000)).toBe(0);
    const summary = JSON.parse(stdout.trim().split('\n').pop()!);
    expect(summary.steps).toBe(MAX_STEPS);

    if (dashboard) {
      // The coordinator is gone; the page keeps the run's final state and says it finished.
      const page = dashboard;
      await page.waitForSelector('body[data-phase="finished"]', { timeout: 10_000 });
      expect(await page.textContent('#phase')).toBe('finished');
      expect(await page.isVisible('#finished-note')).toBe(true);
      expect(await page.textContent('#finished-note')).toMatch(/finished .*keeps its final state/);
      await page.waitForFunction((steps) => Number(document.body.dataset.step) === steps, MAX_STEPS, { timeout: 10_000, polling: 50 });
      expect((await chartPoints(page, 'loss-chart')).map((p) => p.x)).toEqual(Array.from({ length: MAX_STEPS }, (_, i) => i + 1));
      expect(await page.textContent('#n-step')).toBe(`${MAX_STEPS} / ${MAX_STEPS}`);
      expect(await page.textContent('#n-eta')).toBe('done');
      const records = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      const finalRecord = records.find((r) => r.type === 'summary');
      expect(await page.textContent('#n-test')).toBe(`${(100 * finalRecord.test_accuracy).toFixed(1)}%`);
      // The one complete epoch's test accuracy, at its last step (1024 images / 32 a step).
      const epoch = records.find((r) => r.type === 'epoch');
      expect(await chartPoints(page, 'accuracy-chart', 2)).toEqual([{ x: 1024 / 32, y: epoch.test_accuracy }]);
      // No --val-split: no validation tile.
      expect(await page.isVisible('#tile-validation')).toBe(false);
    }

    const withPng = chromiumAvailable();
    const result = await runCli(['report', runDir, '--backend', 'wasm', '--json', ...(withPng ? ['--png', '--svg'] : [])], { timeoutMs: 60_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(result.json!.examples).toBe(TEST_LIMIT);
    const html = readFileSync(result.json!.report as string, 'utf8');

    const heatmap = html.match(/<table class="heatmap"[\s\S]*?<\/table>/)?.[0] ?? '';
    const counts = [...heatmap.matchAll(/<td style="[^"]*"[^>]*>(\d+)<\/td>/g)].map((m) => Number(m[1]));
    expect(counts).toHaveLength(10 * 10);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(TEST_LIMIT);
    expect(html).toMatch(new RegExp(`data-key="final-loss"><span class="label">[^<]*</span><span class="value">${summary.final_loss.toFixed(4)}</span>`));
    // Nothing to fetch: no resource from a URL in attributes or styles (licence comments may name sites).
    expect(html).not.toMatch(/\b(src|href|action|poster)\s*=\s*["']?\s*(https?:)?\/\//i);
    expect(html).not.toMatch(/url\(\s*["']?\s*(https?:)?\/\//i);
    expect(html).not.toMatch(/@import/i);

    if (!withPng) {
      console.warn(`${NO_CHROMIUM}: the report was not opened in a browser`);
      return;
    }
    expect(result.json!.pngs).toEqual(FIGURES.map((name) => join(runDir, 'report', `${name}.png`)));
    for (const png of result.json!.pngs as string[]) expect(readFileSync(png).subarray(1, 4).toString()).toBe('PNG');
    // Vector figures: SVG elements (paths for the curves, text for the heatmap), no embedded HTML.
    expect(result.json!.svgs).toEqual(FIGURES.map((name) => join(runDir, 'report', `${name}.svg`)));
    const svg = (name: string) => readFileSync(join(runDir, 'report', `${name}.svg`), 'utf8');
    for (const name of FIGURES) {
      expect(svg(name)).toMatch(/^<\?xml[^>]*>\s*<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
      expect(svg(name)).not.toMatch(/<foreignObject/i);
    }
    expect(svg('loss').match(/<path /g)?.length ?? 0).toBeGreaterThan(10);
    expect(svg('loss')).not.toMatch(/<image/);
    expect(svg('confusion-matrix').match(/<text /g)?.length ?? 0).toBeGreaterThanOrEqual(10 * 10);
    expect(svg('misclassified').match(/<image /g)?.length).toBe(Math.min(24, TEST_LIMIT - Math.round(summary.test_accuracy * TEST_LIMIT)));
    browser ??= await launchChromium();
    const page = await browser.newPage();
    const requests: string[] = [];
    const pageErrors: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    page.on('pageerror', (error) => pageErrors.push(error.message));
    const url = pathToFileURL(result.json!.report as string).href;
    await page.goto(url);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 10_000 });
    expect(requests).toEqual([url]);
    expect(pageErrors).toEqual([]);
    expect((await chartPoints(page, 'loss-chart')).length).toBe(MAX_STEPS);
    // The smoothing control: at 0 the smoothed curve is the raw one.
    const raw = (await chartPoints(page, 'loss-chart')).map((p) => p.y);
    expect((await chartPoints(page, 'loss-chart', 1))[0].y).toBeCloseTo(raw[0], 12); // debiased: starts at the first value
    await page.evaluate(() => {
      const slider = document.getElementById('smoothing') as HTMLInputElement;
      slider.value = '0';
      slider.dispatchEvent(new Event('input'));
    });
    expect((await chartPoints(page, 'loss-chart', 1)).map((p) => p.y)).toEqual(raw);
    expect(await page.textContent('#smoothing-value')).toBe('0.00');
  });
});

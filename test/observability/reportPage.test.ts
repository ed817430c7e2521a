// The report page of a run whose epoch records carry validation figures (--val-split): its
// curves show them, and the smoothing control redraws the smoothed curves. Rendered from
// records in memory, opened in headless Chromium.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { evaluationReport } from '../../src/metrics/classification.js';
import { chromiumAvailable, chromiumPath, launchChromium } from '../../src/report/browser.js';
import { renderReportHtml } from '../../src/report/html.js';
import { parseMetricsLog } from '../../src/report/runRecords.js';
import { tempDir } from '../helpers/cli.js';

const NO_CHROMIUM = `skipped: no Chromium at ${chromiumPath()} (Debian: apt-get install chromium)`;
const dir = tempDir('report-page');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const lines = [
  ...[1, 2, 3, 4].map((step) => ({ time: 't', type: 'step', step, total_steps: 4, epoch: step <= 2 ? 1 : 2, loss: 2.4 - 0.3 * step, accuracy: 0.1 * step, lr: 1e-3, images_per_s: 10, bytes: 0, workers: 1, timings_ms: { compute: 5, total: 6 } })),
  { time: 't', type: 'epoch', epoch: 1, loss: 2, train_accuracy: 0.15, test_accuracy: 0.2, val_loss: 1.9, val_accuracy: 0.25 },
  { time: 't', type: 'epoch', epoch: 2, loss: 1.5, train_accuracy: 0.35, test_accuracy: 0.4, val_loss: 1.4, val_accuracy: 0.375 },
];

describe('the report page', () => {
  it('draws validation loss and accuracy per epoch at each epoch\'s last step, and smooths at the slider\'s weight', async ({ skip }) => {
    if (!chromiumAvailable()) {
      console.warn(NO_CHROMIUM);
      skip(NO_CHROMIUM);
    }
    const records = parseMetricsLog(lines.map((l) => JSON.stringify(l)).join('\n'));
    const labels = [0, 1, 1, 0];
    const probabilities = Float32Array.from([0.9, 0.1, 0.2, 0.8, 0.6, 0.4, 0.7, 0.3]);
    const html = renderReportHtml({
      runDir: dir,
      generatedAt: 't',
      checkpoint: { dir: join(dir, 'checkpoints', 'step-4'), step: 4 },
      dataset: { name: 'test', examples: 4, rows: 28, cols: 28 },
      backend: 'wasm',
      records,
      evaluation: evaluationReport(labels, probabilities, 2),
      misclassified: [],
    });
    const file = join(dir, 'report.html');
    writeFileSync(file, html);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(pathToFileURL(file).href);
      await page.waitForSelector('body[data-ready="true"]', { timeout: 10_000 });
      const datasets = (id: string) =>
        page.evaluate((canvas) => {
          const chart = (globalThis as unknown as { Chart: { getChart(id: string): { data: { datasets: Array<{ label: string; data: Array<{ x: number; y: number }> }> } } } }).Chart.getChart(canvas)!;
          return chart.data.datasets.map((d) => ({ label: d.label, data: d.data }));
        }, id);
      const accuracy = await datasets('accuracy-chart');
      expect(accuracy.find((d) => d.label === 'validation, epoch')?.data).toEqual([{ x: 2, y: 0.25 }, { x: 4, y: 0.375 }]);
      expect(accuracy.find((d) => d.label === 'test, epoch')?.data).toEqual([{ x: 2, y: 0.2 }, { x: 4, y: 0.4 }]);
      expect((await datasets('loss-chart')).find((d) => d.label === 'validation, epoch')?.data).toEqual([{ x: 2, y: 1.9 }, { x: 4, y: 1.4 }]);

      // Default weight 0.6, bias-corrected: the second point is (0.6·x1 + x2) / 1.6.
      const smoothedLoss = async () => (await datasets('loss-chart')).find((d) => d.label === 'smoothed')!.data.map((p) => p.y);
      const [x1, x2] = [2.1, 1.8];
      expect((await smoothedLoss())[1]).toBeCloseTo((0.6 * x1 + x2) / 1.6, 12);
      await page.evaluate(() => {
        const slider = document.getElementById('smoothing') as HTMLInputElement;
        slider.value = '0.9';
        slider.dispatchEvent(new Event('input'));
      });
      expect((await smoothedLoss())[1]).toBeCloseTo((0.9 * x1 + x2) / 1.9, 12);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 60_000);
});

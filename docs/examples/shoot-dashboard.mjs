// Takes docs/images/dashboard.png from a live run: waits for the coordinator's dashboard on
// PORT to show step STEP, then screenshots the whole page in headless Chromium.
//   npx dsdc-dist train --workers 2 --backend wasm --epochs 1 --train-limit 10000 --bn-momentum 0.9 --port 7191 --run-dir /tmp/report-run &
//   node docs/examples/shoot-dashboard.mjs 7191 60 docs/images/dashboard.png
import { chromium } from 'playwright-core';

const [port, step, out] = process.argv.slice(2);
if (!out) throw new Error('usage: node docs/examples/shoot-dashboard.mjs PORT STEP OUT.png');
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const WAIT_MS = 15 * 60_000;

// The coordinator may still be loading data: poll /healthz until it answers.
const deadline = Date.now() + WAIT_MS;
while (!(await fetch(`http://127.0.0.1:${port}/healthz`).then(() => true, () => false))) {
  if (Date.now() > deadline) throw new Error(`no coordinator on port ${port}`);
  await new Promise((resolve) => setTimeout(resolve, 500));
}
const browser = await chromium.launch({ executablePath: process.env.DSDC_CHROMIUM || '/usr/bin/chromium', args: ARGS });
const page = await browser.newPage({ viewport: { width: 1280, height: 1140 } });
await page.goto(`http://127.0.0.1:${port}/`);
await page.waitForFunction((s) => Number(document.body.dataset.step) >= s, Number(step), { timeout: WAIT_MS, polling: 200 });
await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
await page.screenshot({ path: out, fullPage: true });
console.log(`wrote ${out} at step ${await page.evaluate(() => document.body.dataset.step)}`);
await browser.close();

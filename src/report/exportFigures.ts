// PNG files of the report's figures, for papers and slides: opens the written HTML file in
// headless Chromium and screenshots each [data-figure] element at twice the CSS resolution.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { launchChromium } from './browser.js';

/** Device pixels per CSS pixel in the exported PNGs (sharp when printed at column width). */
export const PNG_SCALE = 2;
export const PNG_PAGE_WIDTH = 1280;
export const PAGE_READY_TIMEOUT_MS = 30_000;

export async function exportFigures(htmlFile: string, outDir: string): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: PNG_PAGE_WIDTH, height: 900 }, deviceScaleFactor: PNG_SCALE });
    await page.goto(pathToFileURL(htmlFile).href);
    await page.waitForSelector('body[data-ready="true"]', { timeout: PAGE_READY_TIMEOUT_MS });
    const written: string[] = [];
    for (const figure of await page.locator('[data-figure]').all()) {
      const name = await figure.getAttribute('data-figure');
      const file = join(outDir, `${name}.png`);
      await figure.screenshot({ path: file });
      written.push(file);
    }
    return written;
  } finally {
    await browser.close();
  }
}

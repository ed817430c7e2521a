// Files of the report's figures, for papers and slides: opens the written HTML file in headless
// Chromium and writes each [data-figure] element as a PNG (a screenshot at twice the CSS
// resolution) and/or as a vector SVG (page/figureSvg.ts, bundled here and injected into the page
// only for the export, so that the report file itself stays small).
import { writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { launchChromium } from './browser.js';

/** Device pixels per CSS pixel in the exported PNGs (sharp when printed at column width). */
export const PNG_SCALE = 2;
export const PNG_PAGE_WIDTH = 1280;
export const PAGE_READY_TIMEOUT_MS = 30_000;
export const SVG_SCRIPT_ENTRY = fileURLToPath(new URL('./page/figureSvg.ts', import.meta.url));

export type FigureFormat = 'png' | 'svg';

/** Writes `name.png` / `name.svg` per figure into outDir; returns the files written, figure by figure. */
export async function exportFigures(htmlFile: string, outDir: string, formats: readonly FigureFormat[]): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: PNG_PAGE_WIDTH, height: 900 }, deviceScaleFactor: PNG_SCALE });
    await page.goto(pathToFileURL(htmlFile).href);
    await page.waitForSelector('body[data-ready="true"]', { timeout: PAGE_READY_TIMEOUT_MS });
    const svgs: Record<string, string> = {};
    if (formats.includes('svg')) {
      await page.addScriptTag({ content: await figureSvgScript() });
      Object.assign(svgs, await page.evaluate(() => window.__dsdcFigureSvgs!()));
    }
    const written: string[] = [];
    for (const figure of await page.locator('[data-figure]').all()) {
      const name = (await figure.getAttribute('data-figure'))!;
      if (formats.includes('png')) {
        const file = join(outDir, `${name}.png`);
        await figure.screenshot({ path: file });
        written.push(file);
      }
      if (formats.includes('svg')) {
        const file = join(outDir, `${name}.svg`);
        await writeFile(file, `<?xml version="1.0" encoding="UTF-8"?>\n${svgs[name]}\n`);
        written.push(file);
      }
    }
    return written;
  } finally {
    await browser.close();
  }
}

/** page/figureSvg.ts with svgcanvas and dom-to-svg, as one classic script for the page. */
async function figureSvgScript(): Promise<string> {
  const result = await build({ entryPoints: [SVG_SCRIPT_ENTRY], bundle: true, write: false, format: 'iife', platform: 'browser', target: 'es2020', minify: true, legalComments: 'none', logLevel: 'silent' });
  return result.outputFiles[0].text;
}

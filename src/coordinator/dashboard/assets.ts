// The dashboard's static files (this folder's index.html, dashboard.js, dashboard.css, and the
// theme and step phases it shares with the report in src/browser) and the
// charting library, served from node_modules so the page works on machines with no internet.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CHART_ASSET_PATH = '/assets/chart.umd.js';

const DASHBOARD_DIR = dirname(fileURLToPath(import.meta.url));
/** Browser scripts and styles the dashboard shares with the report. */
export const SHARED_BROWSER_DIR = join(DASHBOARD_DIR, '..', '..', 'browser');

export interface StaticAsset {
  contentType: string;
  body: Buffer;
}

const PAGE_FILES: Record<string, { file: string; contentType: string }> = {
  '/step-phases.js': { file: join(SHARED_BROWSER_DIR, 'stepPhases.js'), contentType: 'text/javascript; charset=utf-8' },
  '/theme.css': { file: join(SHARED_BROWSER_DIR, 'theme.css'), contentType: 'text/css; charset=utf-8' },
  '/': { file: 'index.html', contentType: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', contentType: 'text/html; charset=utf-8' },
  '/dashboard.js': { file: 'dashboard.js', contentType: 'text/javascript; charset=utf-8' },
  '/dashboard.css': { file: 'dashboard.css', contentType: 'text/css; charset=utf-8' },
};

/** The absolute path of Chart.js's browser (UMD) build; its package exports only the module builds. */
export function chartLibraryFile(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('chart.js')), 'chart.umd.min.js');
}

/** Chart.js's UMD source, without the source-map comment (the map is not served). */
export function chartLibrarySource(): string {
  return readFileSync(chartLibraryFile(), 'utf8').replace(/\n?\/\/# sourceMappingURL=\S+\s*$/, '\n');
}

/** Looks up a dashboard URL path; files are read once and kept (they are small and never change). */
export class DashboardAssets {
  private readonly cache = new Map<string, StaticAsset>();

  get(path: string): StaticAsset | undefined {
    const cached = this.cache.get(path);
    if (cached) return cached;
    const asset = this.load(path);
    if (asset) this.cache.set(path, asset);
    return asset;
  }

  private load(path: string): StaticAsset | undefined {
    if (path === CHART_ASSET_PATH) return { contentType: 'text/javascript; charset=utf-8', body: Buffer.from(chartLibrarySource()) };
    const page = PAGE_FILES[path];
    if (!page) return undefined;
    return { contentType: page.contentType, body: readFileSync(resolve(DASHBOARD_DIR, page.file)) };
  }
}

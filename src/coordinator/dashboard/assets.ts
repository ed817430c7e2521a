// The dashboard's static files: this folder's index.html, charts.js, dashboard.js and dashboard.css, and
// the theme, step phases and charting library it shares with the report (src/browser). They are
// read once, when the coordinator's HTTP side is built, into the one in-memory file server
// (src/http/staticFiles.ts), so nothing else of the disk is reachable from a URL.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chartLibrarySource, SMOOTHING_JS_FILE, STEP_PHASES_JS_FILE, THEME_CSS_FILE } from '../../browser/sharedAssets.js';
import { CONTENT_TYPES, StaticFiles } from '../../http/staticFiles.js';

export const CHART_ASSET_PATH = '/assets/chart.umd.js';

const DASHBOARD_DIR = dirname(fileURLToPath(import.meta.url));

/** URL path → file on disk and its type; '/index.html' is served as '/' by StaticFiles. */
const PAGE_FILES: ReadonlyArray<{ path: string; file: string; contentType: string }> = [
  { path: '/', file: join(DASHBOARD_DIR, 'index.html'), contentType: CONTENT_TYPES.html },
  { path: '/charts.js', file: join(DASHBOARD_DIR, 'charts.js'), contentType: CONTENT_TYPES.javascript },
  { path: '/dashboard.js', file: join(DASHBOARD_DIR, 'dashboard.js'), contentType: CONTENT_TYPES.javascript },
  { path: '/dashboard.css', file: join(DASHBOARD_DIR, 'dashboard.css'), contentType: CONTENT_TYPES.css },
  { path: '/step-phases.js', file: STEP_PHASES_JS_FILE, contentType: CONTENT_TYPES.javascript },
  { path: '/smoothing.js', file: SMOOTHING_JS_FILE, contentType: CONTENT_TYPES.javascript },
  { path: '/theme.css', file: THEME_CSS_FILE, contentType: CONTENT_TYPES.css },
];

/**
 * The dashboard's files, served with no-cache: a browser revalidates after a coordinator restart
 * (another version may serve the same URLs) but keeps them while the page runs.
 */
export function dashboardFiles(): StaticFiles {
  const files = new StaticFiles({ cacheControl: 'no-cache' });
  for (const page of PAGE_FILES) files.set(page.path, { contentType: page.contentType, body: readFileSync(page.file) });
  return files.set(CHART_ASSET_PATH, { contentType: CONTENT_TYPES.javascript, body: chartLibrarySource() });
}

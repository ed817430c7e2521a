// The browser code the pages share (the theme, the step-phase palette, curve smoothing, the charting library),
// found here by every page that uses it: the coordinator's dashboard serves these files, the
// report inlines them. The charting library is served from node_modules, so the pages work on
// machines with no internet.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** This folder: browser scripts and styles shared by the dashboard and the report. */
export const SHARED_BROWSER_DIR = dirname(fileURLToPath(import.meta.url));
export const THEME_CSS_FILE = join(SHARED_BROWSER_DIR, 'theme.css');
export const STEP_PHASES_JS_FILE = join(SHARED_BROWSER_DIR, 'stepPhases.js');
export const SMOOTHING_JS_FILE = join(SHARED_BROWSER_DIR, 'smoothing.js');

/** The absolute path of Chart.js's browser (UMD) build; its package exports only the module builds. */
export function chartLibraryFile(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('chart.js')), 'chart.umd.min.js');
}

/** Chart.js's UMD source, without the source-map comment (the map is not served). */
export function chartLibrarySource(): string {
  return readFileSync(chartLibraryFile(), 'utf8').replace(/\n?\/\/# sourceMappingURL=\S+\s*$/, '\n');
}

// Builds the drawing page's script with esbuild: the page module, the model module (which
// registers the custom layers) and the shared preprocessing, bundled for the browser. With
// platform 'browser' a Node built-in pulled in by mistake fails the build instead of the page.
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { CodedError } from '../errors/codedError.js';

export const PAGE_ENTRY = fileURLToPath(new URL('./page/main.ts', import.meta.url));
export const PAGE_HTML = fileURLToPath(new URL('./page/index.html', import.meta.url));
/** Browsers the bundle targets: those with ES2020, pointer events and WebGL. */
export const BROWSER_TARGET = 'es2020';

export class BundleError extends CodedError<'BUNDLE_FAILED'> {
  constructor(message: string, cause?: unknown) {
    super('BUNDLE_FAILED', message, { cause });
  }
}

export async function bundlePageScript(opts: { minify?: boolean } = {}): Promise<string> {
  try {
    const result = await build({
      entryPoints: [PAGE_ENTRY],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      target: BROWSER_TARGET,
      minify: opts.minify ?? true,
      legalComments: 'none',
      logLevel: 'silent',
      define: { 'process.env.NODE_ENV': '"production"' },
    });
    return result.outputFiles[0].text;
  } catch (e) {
    const errors = (e as { errors?: Array<{ text: string; location?: { file: string; line: number } | null }> }).errors;
    const detail = errors?.map((m) => (m.location ? `${m.location.file}:${m.location.line}: ${m.text}` : m.text)).join('; ');
    throw new BundleError(`cannot bundle the drawing page from ${PAGE_ENTRY}: ${detail ?? (e as Error).message}`);
  }
}

// Headless Chromium for the things that need a real browser: PNG exports of the report's
// figures, and the dashboard tests. Uses the system's Chromium (Debian: `apt-get install
// chromium`) through playwright-core, which downloads no browser of its own.
import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { ReportError } from './errors.js';

export const DEFAULT_CHROMIUM_PATH = '/usr/bin/chromium';
export const CHROMIUM_PATH_ENV = 'DSDC_CHROMIUM';

/** Quiet, offline, throwaway: no sandbox (containers, root), no GPU, no calls home. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function chromiumPath(): string {
  return process.env[CHROMIUM_PATH_ENV] || DEFAULT_CHROMIUM_PATH;
}

export function chromiumAvailable(): boolean {
  return existsSync(chromiumPath());
}

/** Launches Chromium with a fresh temporary profile (playwright's launch creates and removes it). */
export async function launchChromium(): Promise<Browser> {
  const path = chromiumPath();
  if (!existsSync(path)) {
    throw new ReportError('CHROMIUM_MISSING', `no Chromium at ${path}: install it (Debian: apt-get install chromium) or point ${CHROMIUM_PATH_ENV} at one`);
  }
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: path, headless: true, args: CHROMIUM_ARGS });
}

// Starts the webgpu backend for a test file, on lavapipe when nothing else is set up. Outside CI
// a machine without an adapter skips the webgpu tests with the reason; with CI set they fail.
import * as fs from 'node:fs';
import { initBackend, type BackendInfo } from '../../src/backend/index.js';
import { LAVAPIPE_ICD } from '../../src/backend/dawnAdapters.js';

export interface WebGpuAvailability {
  info?: BackendInfo;
  /** Why it could not start; undefined when it did. */
  unavailable?: string;
  /** Skip (a user's machine) rather than fail (CI). */
  skip: boolean;
}

export function useLavapipeWhenUnset(): void {
  if (process.env['VK_DRIVER_FILES'] === undefined && process.env['VK_ICD_FILENAMES'] === undefined && fs.existsSync(LAVAPIPE_ICD)) {
    process.env['VK_DRIVER_FILES'] = LAVAPIPE_ICD;
  }
}

export async function startWebGpu(): Promise<WebGpuAvailability> {
  useLavapipeWhenUnset();
  try {
    const info = await initBackend('webgpu', () => {}, { allowSoftwareAdapter: true });
    return { info, skip: false };
  } catch (error) {
    const unavailable = (error as Error).message;
    const skip = process.env['CI'] === undefined;
    if (skip) console.warn(`skipping the webgpu tests: ${unavailable}`);
    return { unavailable, skip };
  }
}
